package dev.agentescrow.batcher.indexer;

/**
 * @param confirmations blocks that must follow a block before its custody events are booked as
 *     holds (pending transfers: a deposit shows as the user's incoming, not spendable); 0 books them
 *     from the head block
 * @param depth blocks that must follow a block before its holds are posted (final: a deposit becomes
 *     spendable); at least {@code confirmations}. A reorganisation shallower than this voids the holds
 *     of the lost blocks; a deeper one stops the indexer ({@link ReorgDetectedException})
 * @param startBlock first block to scan when there is no checkpoint yet (the vault's deployment block)
 * @param maxBlocksPerPoll upper bound of blocks scanned by one {@link VaultIndexer#poll()}
 */
public record IndexerSettings(int confirmations, int depth, long startBlock, int maxBlocksPerPoll) {
    public IndexerSettings {
        if (confirmations < 0) {
            throw new IllegalArgumentException("confirmations must not be negative: " + confirmations);
        }
        if (depth < confirmations) {
            throw new IllegalArgumentException("depth " + depth + " must be at least confirmations " + confirmations);
        }
        if (startBlock < 0) {
            throw new IllegalArgumentException("startBlock must not be negative: " + startBlock);
        }
        if (maxBlocksPerPoll < 1) {
            throw new IllegalArgumentException("maxBlocksPerPoll must be positive: " + maxBlocksPerPoll);
        }
    }

    /** Holds booked and posted at the same depth, {@code confirmations}. */
    public IndexerSettings(int confirmations, long startBlock, int maxBlocksPerPoll) {
        this(confirmations, confirmations, startBlock, maxBlocksPerPoll);
    }
}
