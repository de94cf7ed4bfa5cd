package dev.agentescrow.batcher.indexer;

/**
 * @param confirmations blocks that must follow a block before its deposits count (0 on an
 *     instant-finality local chain); reorganisations shallower than this never reach the ledger
 * @param startBlock first block to scan when there is no checkpoint yet (the vault's deployment block)
 * @param maxBlocksPerPoll upper bound of blocks scanned by one {@link VaultIndexer#poll()}
 */
public record IndexerSettings(int confirmations, long startBlock, int maxBlocksPerPoll) {
    public IndexerSettings {
        if (confirmations < 0) {
            throw new IllegalArgumentException("confirmations must not be negative: " + confirmations);
        }
        if (startBlock < 0) {
            throw new IllegalArgumentException("startBlock must not be negative: " + startBlock);
        }
        if (maxBlocksPerPoll < 1) {
            throw new IllegalArgumentException("maxBlocksPerPoll must be positive: " + maxBlocksPerPoll);
        }
    }
}
