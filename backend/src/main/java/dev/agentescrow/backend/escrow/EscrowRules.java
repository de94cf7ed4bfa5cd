package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.batcher.command.ServiceRule;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The escrow's state machine as pure decisions: given an escrow, who asks, the time and the
 * action's arguments, either a {@link Refusal} or a {@link Plan} (the new state and the payouts).
 * The rules and their order of checks are the {@code TaskEscrow} contract's (docs/escrow.md):
 * state first, then role, then time, then amounts. Nothing here reads a clock or the database.
 */
public final class EscrowRules {
    public static final int BPS = 10_000;

    private EscrowRules() {
    }

    /** Why an action does not apply; each has a stable code and an HTTP status. */
    public enum Refusal {
        INVALID_STATE(409, "ESCROW_INVALID_STATE", "the escrow's state does not allow this action"),
        ROLE_REQUIRED(403, "ESCROW_ROLE_REQUIRED", "your role in this escrow does not allow this action"),
        ALREADY_ACCEPTED(409, "ESCROW_ALREADY_ACCEPTED", "you accepted every share of yours already"),
        DEADLINE_PASSED(422, "ESCROW_DEADLINE_PASSED", "the deadline has passed"),
        PAYEE_ACCEPTED(422, "ESCROW_PAYEE_ACCEPTED", "a payee accepted: cancel no longer applies; wait for the deadline"),
        DEADLINE_NOT_REACHED(422, "ESCROW_DEADLINE_NOT_REACHED", "a refund applies only after the deadline"),
        IN_GRACE_PERIOD(422, "ESCROW_IN_GRACE_PERIOD", "until the grace period ends only the payer may refund"),
        DISPUTE_CLOSED(422, "ESCROW_DISPUTE_CLOSED", "disputes close at the end of the grace period"),
        ARBITRATION_CLOSED(422, "ESCROW_ARBITRATION_CLOSED", "the arbitration deadline has passed: the fallback applies"),
        ARBITRATION_OPEN(422, "ESCROW_ARBITRATION_OPEN", "the fallback applies only after the arbitration deadline"),
        ATOMIC_RELEASE_ALL(422, "ESCROW_ATOMIC", "an atomic escrow releases every remaining share at once"),
        UNKNOWN_PAYEE(422, "ESCROW_UNKNOWN_PAYEE", "no payee with this index"),
        DUPLICATE_PAYEE(422, "ESCROW_DUPLICATE_PAYEE", "each payee index at most once"),
        EXCEEDS_SHARE(422, "ESCROW_AMOUNT_EXCEEDS_SHARE", "the amount is above the payee's remaining share"),
        NOTHING_TO_RELEASE(422, "ESCROW_NOTHING_TO_RELEASE", "nothing remains to release"),
        SPLIT_MISMATCH(422, "ESCROW_SPLIT_MISMATCH", "the split must add up to exactly what the escrow holds");

        private final int status;
        private final String code;
        private final String message;

        Refusal(int status, String code, String message) {
            this.status = status;
            this.code = code;
            this.message = message;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }

        public String message() {
            return message;
        }
    }

    /**
     * A payout of the plan: to a payee (net), its platform fee (FEE) or protocol fee (PROTOCOL_FEE),
     * each with the payee's index, or back to the payer.
     */
    public record Payout(Kind kind, int index, Address to, BigInteger amount) {
        public enum Kind { PAYEE, FEE, PROTOCOL_FEE, PAYER }

        public boolean isFee() {
            return kind == Kind.FEE || kind == Kind.PROTOCOL_FEE;
        }
    }

    /**
     * What an action does: the action, the rule that applies it (null when it is the payer's own
     * word), the new state, the payouts (net to payees, fees, to the payer) and the gross
     * release per payee index.
     */
    public record Plan(EscrowAction action, ServiceRule rule, String payerRule, EscrowState to,
                       List<Payout> payouts, Map<Integer, BigInteger> releasedGross, Set<Integer> accepting,
                       Instant arbitrationDeadline) {
        public BigInteger paidOut() {
            return payouts.stream().map(Payout::amount).reduce(BigInteger.ZERO, BigInteger::add);
        }

        /** Both fees of the plan's payouts. */
        public BigInteger fees() {
            return payouts.stream().filter(Payout::isFee).map(Payout::amount).reduce(BigInteger.ZERO, BigInteger::add);
        }
    }

    /** Either a plan or a refusal. */
    public record Decision(Plan plan, Refusal refusal) {
        static Decision of(Plan plan) {
            return new Decision(plan, null);
        }

        static Decision refused(Refusal refusal) {
            return new Decision(null, refusal);
        }

        public boolean refused() {
            return refusal != null;
        }
    }

    /** One requested release: payee {@code index}, {@code amount} gross, or its whole remaining share when null. */
    public record Release(int index, BigInteger amount) {
    }

    /** One fee of a gross payout to a payee: {@code floor(amount * feeBps / 10,000)} ({@link FeeRates#floor}). */
    public static BigInteger fee(BigInteger amount, int feeBps) {
        return FeeRates.floor(amount, feeBps);
    }

    // ------------------------------------------------------------------ actions

    /** A payee accepts every share of its own (the last acceptance makes the escrow FUNDED); until the deadline. */
    public static Decision accept(Escrow e, Address caller, Instant now) {
        if (e.state() != EscrowState.OPEN) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        Set<Integer> mine = new TreeSet<>();
        boolean payee = false;
        for (Escrow.Payee p : e.payees()) {
            if (p.account().equals(caller)) {
                payee = true;
                if (!p.accepted()) {
                    mine.add(p.index());
                }
            }
        }
        if (!payee) {
            return Decision.refused(Refusal.ROLE_REQUIRED);
        }
        if (mine.isEmpty()) {
            return Decision.refused(Refusal.ALREADY_ACCEPTED);
        }
        if (now.isAfter(e.deadline())) {
            return Decision.refused(Refusal.DEADLINE_PASSED);
        }
        boolean last = e.acceptedCount() + mine.size() == e.payees().size();
        return Decision.of(new Plan(EscrowAction.ACCEPTED, null, null, last ? EscrowState.FUNDED : EscrowState.OPEN,
                List.of(), Map.of(), mine, null));
    }

    /** The payer cancels an escrow no payee accepted: everything back at once (REJECTED). */
    public static Decision cancel(Escrow e, Address caller) {
        if (e.state() != EscrowState.OPEN) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        if (!e.payer().equals(caller)) {
            return Decision.refused(Refusal.ROLE_REQUIRED);
        }
        if (e.acceptedCount() > 0) {
            return Decision.refused(Refusal.PAYEE_ACCEPTED);
        }
        return Decision.of(new Plan(EscrowAction.CANCELLED, null, "PAYER_CANCEL", EscrowState.REJECTED,
                List.of(new Payout(Payout.Kind.PAYER, -1, e.payer(), e.held())), Map.of(), Set.of(), null));
    }

    /**
     * The payer or the evaluator releases: {@code releases} empty = every remaining share (the only
     * release of an atomic escrow), else the listed payees, each at most its remaining share.
     * Allowed also after the deadline, until someone refunds. COMPLETED when nothing is left.
     */
    public static Decision release(Escrow e, Address caller, List<Release> releases) {
        if (e.state() != EscrowState.FUNDED) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        boolean byPayer = e.payer().equals(caller);
        if (!byPayer && !caller.equals(e.evaluator())) {
            return Decision.refused(Refusal.ROLE_REQUIRED);
        }
        Map<Integer, BigInteger> gross = new LinkedHashMap<>();
        if (releases.isEmpty()) {
            for (Escrow.Payee p : e.payees()) {
                if (p.remaining().signum() > 0) {
                    gross.put(p.index(), p.remaining());
                }
            }
        } else {
            if (e.atomic()) {
                return Decision.refused(Refusal.ATOMIC_RELEASE_ALL);
            }
            for (Release r : releases) {
                if (r.index() < 0 || r.index() >= e.payees().size()) {
                    return Decision.refused(Refusal.UNKNOWN_PAYEE);
                }
                if (gross.containsKey(r.index())) {
                    return Decision.refused(Refusal.DUPLICATE_PAYEE);
                }
                BigInteger remaining = e.payees().get(r.index()).remaining();
                BigInteger amount = r.amount() == null ? remaining : r.amount();
                if (amount.compareTo(remaining) > 0) {
                    return Decision.refused(Refusal.EXCEEDS_SHARE);
                }
                if (amount.signum() <= 0) {
                    return Decision.refused(Refusal.NOTHING_TO_RELEASE);
                }
                gross.put(r.index(), amount);
            }
        }
        if (gross.isEmpty()) {
            return Decision.refused(Refusal.NOTHING_TO_RELEASE);
        }
        List<Payout> payouts = payeePayouts(e, gross);
        BigInteger total = gross.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
        EscrowState to = total.equals(e.held()) ? EscrowState.COMPLETED : EscrowState.FUNDED;
        return Decision.of(new Plan(EscrowAction.RELEASED, byPayer ? null : ServiceRule.EVALUATOR_RELEASE,
                byPayer ? "PAYER_RELEASE" : null, to, payouts, gross, Set.of(), null));
    }

    /**
     * Everything held back to the payer (EXPIRED), from OPEN or FUNDED, after the deadline: the
     * payer at once, anyone (or the scheduler, {@code caller} null) after the grace period.
     */
    public static Decision refund(Escrow e, Address caller, Instant now) {
        if (e.state() != EscrowState.OPEN && e.state() != EscrowState.FUNDED) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        if (!now.isAfter(e.deadline())) {
            return Decision.refused(Refusal.DEADLINE_NOT_REACHED);
        }
        boolean byPayer = e.payer().equals(caller);
        if (!byPayer && !now.isAfter(e.graceEnd())) {
            return Decision.refused(Refusal.IN_GRACE_PERIOD);
        }
        ServiceRule rule = byPayer ? null : caller == null ? ServiceRule.SCHEDULED_EXPIRY : ServiceRule.DEADLINE_REFUND;
        return Decision.of(new Plan(EscrowAction.REFUNDED, rule, byPayer ? "PAYER_REFUND" : null, EscrowState.EXPIRED,
                List.of(new Payout(Payout.Kind.PAYER, -1, e.payer(), e.held())), Map.of(), Set.of(), null));
    }

    /** The payer or a payee disputes a FUNDED escrow, until the end of the grace period. */
    public static Decision dispute(Escrow e, Address caller, Instant now) {
        if (e.state() != EscrowState.FUNDED) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        Set<EscrowRole> roles = e.rolesOf(caller);
        if (!roles.contains(EscrowRole.PAYER) && !roles.contains(EscrowRole.PAYEE)) {
            return Decision.refused(Refusal.ROLE_REQUIRED);
        }
        if (now.isAfter(e.graceEnd())) {
            return Decision.refused(Refusal.DISPUTE_CLOSED);
        }
        return Decision.of(new Plan(EscrowAction.DISPUTED, null, null, EscrowState.DISPUTED, List.of(), Map.of(),
                Set.of(), now.plusSeconds(e.arbitrationSeconds())));
    }

    /**
     * The arbiter decides a dispute until its deadline: payee {@code i} gets {@code payeeAmounts[i]}
     * (at most its remaining share, fee taken from it), the payer {@code payerAmount}; the split
     * must add up to exactly what the escrow holds.
     */
    public static Decision resolve(Escrow e, Address caller, Instant now, Map<Integer, BigInteger> payeeAmounts,
                                   BigInteger payerAmount) {
        if (e.state() != EscrowState.DISPUTED) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        if (!e.arbiter().equals(caller)) {
            return Decision.refused(Refusal.ROLE_REQUIRED);
        }
        if (now.isAfter(e.arbitrationDeadline())) {
            return Decision.refused(Refusal.ARBITRATION_CLOSED);
        }
        BigInteger sum = Objects.requireNonNull(payerAmount, "payerAmount");
        Map<Integer, BigInteger> gross = new LinkedHashMap<>();
        for (Map.Entry<Integer, BigInteger> part : payeeAmounts.entrySet()) {
            int index = part.getKey();
            if (index < 0 || index >= e.payees().size()) {
                return Decision.refused(Refusal.UNKNOWN_PAYEE);
            }
            if (part.getValue().compareTo(e.payees().get(index).remaining()) > 0) {
                return Decision.refused(Refusal.EXCEEDS_SHARE);
            }
            sum = sum.add(part.getValue());
            if (part.getValue().signum() > 0) {
                gross.put(index, part.getValue());
            }
        }
        if (!sum.equals(e.held())) {
            return Decision.refused(Refusal.SPLIT_MISMATCH);
        }
        return Decision.of(split(e, EscrowAction.RESOLVED, ServiceRule.ARBITER_SPLIT, gross, payerAmount));
    }

    /** Anyone (or the scheduler) applies the terms' fallback after the arbitration deadline. */
    public static Decision fallback(Escrow e, Instant now) {
        if (e.state() != EscrowState.DISPUTED) {
            return Decision.refused(Refusal.INVALID_STATE);
        }
        if (!now.isAfter(e.arbitrationDeadline())) {
            return Decision.refused(Refusal.ARBITRATION_OPEN);
        }
        Map<Integer, BigInteger> gross = new LinkedHashMap<>();
        for (Escrow.Payee p : e.payees()) {
            BigInteger part = switch (e.fallback()) {
                case REFUND_PAYER -> BigInteger.ZERO;
                case PAY_PAYEES -> p.remaining();
                case SPLIT_EVENLY -> p.remaining().shiftRight(1);
            };
            if (part.signum() > 0) {
                gross.put(p.index(), part);
            }
        }
        BigInteger toPayees = gross.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
        return Decision.of(split(e, EscrowAction.FALLBACK_APPLIED, ServiceRule.FALLBACK_SPLIT, gross,
                e.held().subtract(toPayees)));
    }

    private static Plan split(Escrow e, EscrowAction action, ServiceRule rule, Map<Integer, BigInteger> gross,
                              BigInteger payerAmount) {
        List<Payout> payouts = new ArrayList<>(payeePayouts(e, gross));
        if (payerAmount.signum() > 0) {
            payouts.add(new Payout(Payout.Kind.PAYER, -1, e.payer(), payerAmount));
        }
        return new Plan(action, rule, null, EscrowState.RESOLVED, payouts, gross, Set.of(), null);
    }

    /**
     * Each gross payout to a payee as its net part, the platform's fee and the protocol's fee (a fee
     * that rounds to zero is no payout): each fee floored on its own, the rest to the payee
     * (docs/fees.md).
     */
    private static List<Payout> payeePayouts(Escrow e, Map<Integer, BigInteger> gross) {
        List<Payout> payouts = new ArrayList<>();
        for (Map.Entry<Integer, BigInteger> part : gross.entrySet()) {
            Escrow.Payee payee = e.payees().get(part.getKey());
            BigInteger g = part.getValue();
            BigInteger platform = fee(g, e.feeBps());
            BigInteger protocol = fee(g, e.protocolFeeBps());
            payouts.add(new Payout(Payout.Kind.PAYEE, payee.index(), payee.account(),
                    g.subtract(platform).subtract(protocol)));
            if (platform.signum() > 0) {
                payouts.add(new Payout(Payout.Kind.FEE, payee.index(), null, platform));
            }
            if (protocol.signum() > 0) {
                payouts.add(new Payout(Payout.Kind.PROTOCOL_FEE, payee.index(), null, protocol));
            }
        }
        return payouts;
    }
}
