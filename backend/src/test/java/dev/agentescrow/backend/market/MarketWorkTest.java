package dev.agentescrow.backend.market;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * How work (here a request; tasks share the rule) ends when its escrow ended by the escrow's own
 * rules ({@link MarketWork#settledBy}): a missed deadline and an unanswered failure fail it, the
 * arbiter's split of a dispute resolves it, anything else closes it with the escrow's amounts.
 */
class MarketWorkTest {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
    private static final BigInteger ESCROWED = BigInteger.valueOf(1_500);

    private static ServiceRequest escrowed() {
        return new ServiceRequest("req_" + "1".repeat(32), "svc_" + "2".repeat(32),
                Address.of("0x" + "a".repeat(40)), Address.of("0x" + "b".repeat(40)), ServiceRequest.State.ESCROWED,
                Address.of("0x" + "c".repeat(40)), 1, null, BigInteger.valueOf(1_000), 15_000, ESCROWED,
                "esc_" + "3".repeat(32), 60, T0, null, null, null, null, null, null, null, null, null, 3_600, null, null,
                1);
    }

    private static EscrowClosure.Closure ended(EscrowClosure.How how, long payout) {
        return new EscrowClosure.Closure(how, BigInteger.valueOf(payout), ESCROWED.subtract(BigInteger.valueOf(payout)),
                T0.plusSeconds(500));
    }

    @Test
    void work_never_delivered_and_refunded_after_its_deadline_has_missed_it() {
        ServiceRequest failed = escrowed().settledBy(ended(EscrowClosure.How.EXPIRED, 0), T0.plusSeconds(500));
        assertThat(failed.state()).isEqualTo(ServiceRequest.State.FAILED);
        assertThat(failed.failure().reason()).isEqualTo(MarketTask.FailureReason.DEADLINE_MISSED);
        assertThat(failed.payout()).isZero();
        assertThat(failed.refund()).isEqualTo(ESCROWED);
    }

    @Test
    void delivered_work_whose_escrow_expired_unscored_is_closed_expired_with_the_escrows_amounts() {
        ServiceRequest delivered = escrowed().completed(T0.plusSeconds(10), "ipfs://r");
        ServiceRequest closed = delivered.settledBy(ended(EscrowClosure.How.EXPIRED, 0), T0.plusSeconds(500));
        assertThat(closed.state()).isEqualTo(ServiceRequest.State.CLOSED);
        assertThat(closed.closed().how()).isEqualTo(EscrowClosure.How.EXPIRED);
        assertThat(closed.failure()).isNull();
        assertThat(closed.payout().add(closed.refund())).isEqualTo(ESCROWED);
        ServiceRequest released = delivered.settledBy(ended(EscrowClosure.How.RELEASED, 1_500), T0.plusSeconds(500));
        assertThat(released.state()).isEqualTo(ServiceRequest.State.CLOSED);
        assertThat(released.payout()).isEqualTo(ESCROWED);
        assertThat(released.refund()).isZero();
    }

    @Test
    void a_reported_failure_refunded_whole_stands_and_a_split_of_it_closes_it() {
        ServiceRequest reported = escrowed().failureReported(T0.plusSeconds(5), "nothing");
        assertThat(reported.failure().windowEnds()).isEqualTo(T0.plusSeconds(5 + 3_600));
        ServiceRequest failed = reported.settledBy(ended(EscrowClosure.How.FALLBACK, 0), T0.plusSeconds(500));
        assertThat(failed.state()).isEqualTo(ServiceRequest.State.FAILED);
        assertThat(failed.failure().reason()).isEqualTo(MarketTask.FailureReason.REPORTED);
        ServiceRequest split = reported.settledBy(ended(EscrowClosure.How.ARBITER, 400), T0.plusSeconds(500));
        assertThat(split.state()).isEqualTo(ServiceRequest.State.CLOSED);
        assertThat(split.closed().how()).isEqualTo(EscrowClosure.How.ARBITER);
        assertThat(split.payout()).isEqualTo(BigInteger.valueOf(400));
        assertThat(split.refund()).isEqualTo(BigInteger.valueOf(1_100));
    }

    @Test
    void a_dispute_is_resolved_by_the_arbiters_split_and_closed_by_the_fallback() {
        ServiceRequest disputed = escrowed().failureReported(T0.plusSeconds(5), "nothing")
                .disputed(T0.plusSeconds(6), "it was");
        ServiceRequest resolved = disputed.settledBy(ended(EscrowClosure.How.ARBITER, 600), T0.plusSeconds(500));
        assertThat(resolved.state()).isEqualTo(ServiceRequest.State.RESOLVED);
        assertThat(resolved.payout()).isEqualTo(BigInteger.valueOf(600));
        assertThat(resolved.refund()).isEqualTo(BigInteger.valueOf(900));
        assertThat(resolved.failure().decidedAt()).isNotNull();
        ServiceRequest fallback = disputed.settledBy(ended(EscrowClosure.How.FALLBACK, 0), T0.plusSeconds(500));
        assertThat(fallback.state()).isEqualTo(ServiceRequest.State.CLOSED);
        assertThat(fallback.closed().how()).isEqualTo(EscrowClosure.How.FALLBACK);
        assertThat(fallback.failure().disputeDetail()).isEqualTo("it was");
        assertThat(fallback.refund()).isEqualTo(ESCROWED);
        assertThatThrownBy(() -> resolved.settledBy(ended(EscrowClosure.How.FALLBACK, 0), T0))
                .isInstanceOf(IllegalStateException.class);
    }
}
