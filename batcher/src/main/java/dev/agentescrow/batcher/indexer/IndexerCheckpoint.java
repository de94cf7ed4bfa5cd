package dev.agentescrow.batcher.indexer;

import dev.agentescrow.chain.Bytes32;
import java.util.Objects;

/**
 * The last block the indexer fully processed, with its hash, so that a reorganisation deeper
 * than the confirmation depth is noticed instead of silently skipped.
 */
public record IndexerCheckpoint(long blockNumber, Bytes32 blockHash) {
    public IndexerCheckpoint {
        Objects.requireNonNull(blockHash, "blockHash");
        if (blockNumber < 0) {
            throw new IllegalArgumentException("blockNumber must not be negative: " + blockNumber);
        }
    }
}
