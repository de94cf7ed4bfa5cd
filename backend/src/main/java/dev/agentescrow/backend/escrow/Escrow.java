package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One ledger-custody escrow as stored: its terms, its state and what it still holds. Immutable;
 * a change is a {@link EscrowRules.Plan} that the service applies in one transaction under the
 * escrow's row lock.
 *
 * @param evaluator may release like the payer; null for none
 * @param arbitrationDeadline set by a dispute: the arbiter decides until then (inclusive)
 * @param held what the escrow's ledger account holds: {@code amount} minus every payout so far
 * @param feeBps the platform fee (a chain escrow: the contract's single fee), fixed at creation
 * @param feesPaid both fees taken from payouts so far
 * @param version the number of history entries; part of every derived transfer id
 * @param protocolFeeBps the protocol fee (issue 16), fixed at creation; 0 for chain escrows
 * @param feeSource what the escrow funds (a plain escrow, a market request or task, a workflow), for the fee report
 */
public record Escrow(String id, EscrowState state, Address payer, Address token, Address arbiter, Address evaluator,
                     Instant deadline, long graceSeconds, long arbitrationSeconds, Instant arbitrationDeadline,
                     int feeBps, int maxFeeBps, FallbackRule fallback, boolean atomic, String termsHash,
                     BigInteger amount, BigInteger held, BigInteger feesPaid, int version, Instant createdAt,
                     Instant updatedAt, List<Payee> payees, int protocolFeeBps, FeeSource feeSource) {

    public Escrow {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(feeSource, "feeSource");
        if (feeSource == FeeSource.CHAIN_SWEEP) {
            throw new IllegalArgumentException("an escrow's fee source is ESCROW, REQUEST, TASK or WORKFLOW");
        }
        payees = List.copyOf(payees);
    }

    /** An escrow without a protocol fee, funding a plain escrow (chain escrows, and escrows before issue 16). */
    public Escrow(String id, EscrowState state, Address payer, Address token, Address arbiter, Address evaluator,
                  Instant deadline, long graceSeconds, long arbitrationSeconds, Instant arbitrationDeadline,
                  int feeBps, int maxFeeBps, FallbackRule fallback, boolean atomic, String termsHash,
                  BigInteger amount, BigInteger held, BigInteger feesPaid, int version, Instant createdAt,
                  Instant updatedAt, List<Payee> payees) {
        this(id, state, payer, token, arbiter, evaluator, deadline, graceSeconds, arbitrationSeconds,
                arbitrationDeadline, feeBps, maxFeeBps, fallback, atomic, termsHash, amount, held, feesPaid, version,
                createdAt, updatedAt, payees, 0, FeeSource.ESCROW);
    }

    /**
     * Payee {@code index} of the escrow.
     *
     * @param share its gross share (before the fee)
     * @param released what was released to it so far, gross
     * @param acceptedAt when it accepted the terms; null while it has not
     */
    public record Payee(int index, Address account, BigInteger share, BigInteger released, Instant acceptedAt) {
        public BigInteger remaining() {
            return share.subtract(released);
        }

        public boolean accepted() {
            return acceptedAt != null;
        }
    }

    /** The end of the grace period: until then only the payer may refund, and disputes are open. */
    public Instant graceEnd() {
        return deadline.plusSeconds(graceSeconds);
    }

    public long acceptedCount() {
        return payees.stream().filter(Payee::accepted).count();
    }

    public Optional<Address> evaluatorAddress() {
        return Optional.ofNullable(evaluator);
    }

    /** The roles {@code who} has in this escrow (empty: not a party, the escrow is not theirs to see). */
    public Set<EscrowRole> rolesOf(Address who) {
        Set<EscrowRole> roles = EnumSet.noneOf(EscrowRole.class);
        if (who == null) {
            return roles;
        }
        if (who.equals(payer)) {
            roles.add(EscrowRole.PAYER);
        }
        if (who.equals(arbiter)) {
            roles.add(EscrowRole.ARBITER);
        }
        if (who.equals(evaluator)) {
            roles.add(EscrowRole.EVALUATOR);
        }
        if (payees.stream().anyMatch(p -> p.account().equals(who))) {
            roles.add(EscrowRole.PAYEE);
        }
        return roles;
    }

    /** When the scheduler has something to do: after this instant it refunds or applies the fallback. */
    public static Instant dueAt(EscrowState state, Instant graceEnd, Instant arbitrationDeadline) {
        return switch (state) {
            case OPEN, FUNDED -> graceEnd;
            case DISPUTED -> arbitrationDeadline;
            default -> null;
        };
    }
}
