package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Bytes32;
import java.util.Objects;

/**
 * A payer's own name for a task, the {@code taskId} passed to {@code create}. Unique per payer
 * only: the contract stores the escrow under {@link TaskEscrowGateway#escrowId(dev.agentescrow.chain.Address, TaskId)},
 * which binds it to the payer, so another account using the same task id gets a different escrow.
 */
public record TaskId(Bytes32 value) {
    public TaskId {
        Objects.requireNonNull(value, "value");
    }

    public static TaskId of(Bytes32 value) {
        return new TaskId(value);
    }

    @Override
    public String toString() {
        return value.hex();
    }
}
