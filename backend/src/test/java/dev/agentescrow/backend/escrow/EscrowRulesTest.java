package dev.agentescrow.backend.escrow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.command.ServiceRule;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The state machine's decisions, with the contract's order of checks and its arithmetic (fees, split dust). */
class EscrowRulesTest {
    private static final Address PAYER = Address.of("0x1000000000000000000000000000000000000001");
    private static final Address A = Address.of("0x2000000000000000000000000000000000000002");
    private static final Address B = Address.of("0x3000000000000000000000000000000000000003");
    private static final Address ARBITER = Address.of("0x4000000000000000000000000000000000000004");
    private static final Address EVALUATOR = Address.of("0x5000000000000000000000000000000000000005");
    private static final Address TOKEN = Address.of("0x6000000000000000000000000000000000000006");
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final Instant DEADLINE = T0.plusSeconds(3600);

    private static Escrow escrow(EscrowState state, boolean accepted, long shareA, long shareB, FallbackRule fallback) {
        Instant acceptedAt = accepted ? T0 : null;
        List<Escrow.Payee> payees = List.of(
                new Escrow.Payee(0, A, BigInteger.valueOf(shareA), BigInteger.ZERO, acceptedAt),
                new Escrow.Payee(1, B, BigInteger.valueOf(shareB), BigInteger.ZERO, acceptedAt));
        BigInteger amount = BigInteger.valueOf(shareA + shareB);
        return new Escrow("esc_" + "1".repeat(32), state, PAYER, TOKEN, ARBITER, EVALUATOR, DEADLINE, 600, 60,
                state == EscrowState.DISPUTED ? T0.plusSeconds(60) : null, 250, 300, fallback, false,
                "0x" + "0".repeat(64), amount, amount, BigInteger.ZERO, 3, T0, T0, payees);
    }

    @Test
    void the_fee_rounds_in_favour_of_the_payee() {
        assertThat(EscrowRules.fee(BigInteger.valueOf(39), 250)).isZero();
        assertThat(EscrowRules.fee(BigInteger.valueOf(40), 250)).isEqualTo(BigInteger.ONE);
    }

    @Test
    void a_partial_release_pays_the_net_and_the_fee_and_keeps_the_escrow_funded() {
        Escrow e = escrow(EscrowState.FUNDED, true, 1_000, 500, FallbackRule.REFUND_PAYER);
        EscrowRules.Decision d = EscrowRules.release(e, EVALUATOR, List.of(new EscrowRules.Release(0, BigInteger.valueOf(400))));
        assertThat(d.plan().rule()).isEqualTo(ServiceRule.EVALUATOR_RELEASE);
        assertThat(d.plan().to()).isEqualTo(EscrowState.FUNDED);
        assertThat(d.plan().payouts()).containsExactly(
                new EscrowRules.Payout(EscrowRules.Payout.Kind.PAYEE, 0, A, BigInteger.valueOf(390)),
                new EscrowRules.Payout(EscrowRules.Payout.Kind.FEE, 0, null, BigInteger.valueOf(10)));
        assertThat(EscrowRules.release(e, A, List.of()).refusal()).isEqualTo(EscrowRules.Refusal.ROLE_REQUIRED);
        assertThat(EscrowRules.release(e, PAYER, List.of()).plan().to()).isEqualTo(EscrowState.COMPLETED);
    }

    @Test
    void a_release_with_a_protocol_fee_pays_both_fees_each_floored_and_the_rest_to_the_payee() {
        Escrow plain = escrow(EscrowState.FUNDED, true, 1_000, 10_199, FallbackRule.REFUND_PAYER);
        Escrow e = new Escrow(plain.id(), plain.state(), plain.payer(), plain.token(), plain.arbiter(), plain.evaluator(),
                plain.deadline(), plain.graceSeconds(), plain.arbitrationSeconds(), plain.arbitrationDeadline(), 100,
                150, plain.fallback(), plain.atomic(), plain.termsHash(), plain.amount(), plain.held(),
                plain.feesPaid(), plain.version(), plain.createdAt(), plain.updatedAt(), plain.payees(), 50,
                dev.agentescrow.backend.fee.FeeSource.REQUEST);
        EscrowRules.Decision d = EscrowRules.release(e, EVALUATOR, List.of(new EscrowRules.Release(1, null),
                new EscrowRules.Release(0, BigInteger.valueOf(99))));
        assertThat(d.plan().payouts()).containsExactlyInAnyOrder(
                new EscrowRules.Payout(EscrowRules.Payout.Kind.PAYEE, 1, B, BigInteger.valueOf(10_048)),
                new EscrowRules.Payout(EscrowRules.Payout.Kind.FEE, 1, null, BigInteger.valueOf(101)),
                new EscrowRules.Payout(EscrowRules.Payout.Kind.PROTOCOL_FEE, 1, null, BigInteger.valueOf(50)),
                // 99 at 100 + 50 bps: both fees floor to zero, the payee keeps all of it
                new EscrowRules.Payout(EscrowRules.Payout.Kind.PAYEE, 0, A, BigInteger.valueOf(99)));
        assertThat(d.plan().fees()).isEqualTo(151);
        assertThat(d.plan().paidOut()).isEqualTo(10_199 + 99);
    }

    @Test
    void refunds_wait_for_the_deadline_and_others_for_the_grace_period() {
        Escrow e = escrow(EscrowState.FUNDED, true, 1_000, 500, FallbackRule.REFUND_PAYER);
        assertThat(EscrowRules.refund(e, PAYER, DEADLINE).refusal()).isEqualTo(EscrowRules.Refusal.DEADLINE_NOT_REACHED);
        assertThat(EscrowRules.refund(e, PAYER, DEADLINE.plusSeconds(1)).plan().to()).isEqualTo(EscrowState.EXPIRED);
        assertThat(EscrowRules.refund(e, A, DEADLINE.plusSeconds(600)).refusal())
                .isEqualTo(EscrowRules.Refusal.IN_GRACE_PERIOD);
        assertThat(EscrowRules.refund(e, A, DEADLINE.plusSeconds(601)).plan().rule()).isEqualTo(ServiceRule.DEADLINE_REFUND);
        assertThat(EscrowRules.refund(e, null, DEADLINE.plusSeconds(601)).plan().rule())
                .isEqualTo(ServiceRule.SCHEDULED_EXPIRY);
        assertThat(EscrowRules.dispute(e, A, DEADLINE.plusSeconds(600)).plan().arbitrationDeadline())
                .isEqualTo(DEADLINE.plusSeconds(660));
        assertThat(EscrowRules.dispute(e, A, DEADLINE.plusSeconds(601)).refusal())
                .isEqualTo(EscrowRules.Refusal.DISPUTE_CLOSED);
    }

    @Test
    void split_evenly_gives_the_rounding_dust_to_the_payer() {
        Escrow e = escrow(EscrowState.DISPUTED, true, 1_001, 3, FallbackRule.SPLIT_EVENLY);
        assertThat(EscrowRules.fallback(e, T0.plusSeconds(60)).refusal()).isEqualTo(EscrowRules.Refusal.ARBITRATION_OPEN);
        EscrowRules.Plan plan = EscrowRules.fallback(e, T0.plusSeconds(61)).plan();
        assertThat(plan.releasedGross()).isEqualTo(Map.of(0, BigInteger.valueOf(500), 1, BigInteger.ONE));
        assertThat(plan.payouts().getLast())
                .isEqualTo(new EscrowRules.Payout(EscrowRules.Payout.Kind.PAYER, -1, PAYER, BigInteger.valueOf(503)));
        assertThat(plan.paidOut()).isEqualTo(e.held());
    }

    @Test
    void a_resolution_must_add_up_and_stay_within_each_share() {
        Escrow e = escrow(EscrowState.DISPUTED, true, 1_000, 500, FallbackRule.REFUND_PAYER);
        Instant now = T0.plusSeconds(10);
        assertThat(EscrowRules.resolve(e, ARBITER, now, Map.of(0, BigInteger.valueOf(1_000)), BigInteger.valueOf(499))
                .refusal()).isEqualTo(EscrowRules.Refusal.SPLIT_MISMATCH);
        assertThat(EscrowRules.resolve(e, ARBITER, now, Map.of(1, BigInteger.valueOf(501)), BigInteger.valueOf(999))
                .refusal()).isEqualTo(EscrowRules.Refusal.EXCEEDS_SHARE);
        assertThat(EscrowRules.resolve(e, PAYER, now, Map.of(), BigInteger.valueOf(1_500)).refusal())
                .isEqualTo(EscrowRules.Refusal.ROLE_REQUIRED);
        assertThat(EscrowRules.resolve(e, ARBITER, T0.plusSeconds(61), Map.of(), BigInteger.valueOf(1_500)).refusal())
                .isEqualTo(EscrowRules.Refusal.ARBITRATION_CLOSED);
        EscrowRules.Plan plan = EscrowRules.resolve(e, ARBITER, now, Map.of(0, BigInteger.valueOf(1_000)),
                BigInteger.valueOf(500)).plan();
        assertThat(plan.to()).isEqualTo(EscrowState.RESOLVED);
        assertThat(plan.fees()).isEqualTo(BigInteger.valueOf(25));
    }

    @Test
    void cancel_only_before_any_acceptance() {
        Escrow open = escrow(EscrowState.OPEN, false, 1_000, 500, FallbackRule.REFUND_PAYER);
        assertThat(EscrowRules.cancel(open, PAYER).plan().to()).isEqualTo(EscrowState.REJECTED);
        EscrowRules.Plan accepted = EscrowRules.accept(open, A, DEADLINE).plan();
        assertThat(accepted.to()).isEqualTo(EscrowState.OPEN);
        assertThat(accepted.accepting()).containsExactly(0);
        assertThat(EscrowRules.accept(open, A, DEADLINE.plusSeconds(1)).refusal())
                .isEqualTo(EscrowRules.Refusal.DEADLINE_PASSED);
        Escrow half = new Escrow(open.id(), EscrowState.OPEN, PAYER, TOKEN, ARBITER, EVALUATOR, DEADLINE, 600, 60, null,
                250, 300, FallbackRule.REFUND_PAYER, false, open.termsHash(), open.amount(), open.held(),
                BigInteger.ZERO, 4, T0, T0, List.of(new Escrow.Payee(0, A, BigInteger.valueOf(1_000), BigInteger.ZERO, T0),
                open.payees().get(1)));
        assertThat(EscrowRules.cancel(half, PAYER).refusal()).isEqualTo(EscrowRules.Refusal.PAYEE_ACCEPTED);
        assertThat(EscrowRules.accept(half, B, DEADLINE).plan().to()).isEqualTo(EscrowState.FUNDED);
    }
}
