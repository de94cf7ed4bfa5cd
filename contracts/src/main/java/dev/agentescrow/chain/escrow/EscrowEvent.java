package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import java.time.Instant;

/** An event of the TaskEscrow contract about one escrow. */
public sealed interface EscrowEvent {
    Bytes32 id();

    LogPosition position();

    /**
     * The escrow was created for {@code payer}'s task {@code taskId} (so {@code id} is
     * {@code TaskEscrowGateway.escrowId(payer, taskId)}) and funded with {@code amount} by
     * {@code payer}; it is open until every payee accepted.
     */
    record Created(Bytes32 id, Address payer, Address token, TaskId taskId, Amount amount, BasisPoints fee,
                   Instant deadline, ReleaseMode mode, Bytes32 termsHash, LogPosition position)
            implements EscrowEvent {
    }

    /** Payee {@code index} ({@code payee}) accepted the terms. */
    record Accepted(Bytes32 id, Address payee, int index, LogPosition position) implements EscrowEvent {
    }

    /** The last payee accepted: the escrow is funded (releases and disputes are possible). */
    record Funded(Bytes32 id, LogPosition position) implements EscrowEvent {
    }

    /** {@code payee} received {@code amount}; {@code fee} more accrued to the escrow's fee recipient. */
    record Released(Bytes32 id, Address payee, Amount amount, Amount fee, LogPosition position) implements EscrowEvent {
        /** How much of the payee's share this consumed. */
        public Amount gross() {
            return amount.plus(fee);
        }
    }

    /** Every share was released. */
    record Completed(Bytes32 id, LogPosition position) implements EscrowEvent {
    }

    /** The payer cancelled the escrow before any payee accepted; {@code amount} went back to it. */
    record Rejected(Bytes32 id, Address payer, Amount amount, LogPosition position) implements EscrowEvent {
    }

    /** What the escrow held went back to the payer after the deadline. */
    record Expired(Bytes32 id, Address payer, Amount amount, LogPosition position) implements EscrowEvent {
    }

    /** The payer or a payee disputed; the arbiter may resolve until {@code arbitrationDeadline}. */
    record Disputed(Bytes32 id, Address by, Instant arbitrationDeadline, LogPosition position) implements EscrowEvent {
    }

    /** The arbiter resolved the dispute; {@code toPayer} went back to the payer. */
    record Resolved(Bytes32 id, Address arbiter, Amount toPayer, LogPosition position) implements EscrowEvent {
    }

    /** {@code by} applied the fallback after the arbiter's deadline; {@code toPayer} went back to the payer. */
    record FallbackApplied(Bytes32 id, Address by, FallbackRule rule, Amount toPayer, LogPosition position)
            implements EscrowEvent {
    }
}
