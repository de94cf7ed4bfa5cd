package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A settlement batch as stored: its state, Merkle root, how many movements it carries and, once
 * confirmed, the transaction and block. A batch id with a REVERTED row and a later row shows the later.
 */
public record BatchView(long batchId, BatchState state, Bytes32 merkleRoot, int movements,
                        Optional<String> confirmedTxHash, OptionalLong confirmedBlock, Optional<String> failure,
                        Instant createdAt, Instant updatedAt) {
}
