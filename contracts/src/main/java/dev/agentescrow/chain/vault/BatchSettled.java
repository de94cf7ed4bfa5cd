package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;

/** A {@code BatchSettled} event: batch {@code batchId} with {@code entries} deltas and payouts settled. */
public record BatchSettled(long batchId, Bytes32 merkleRoot, long entries, LogPosition position) {
}
