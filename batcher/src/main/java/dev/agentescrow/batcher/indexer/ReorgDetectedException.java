package dev.agentescrow.batcher.indexer;

import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainException;

/**
 * The block the indexer checkpointed is no longer on the chain: a reorganisation deeper than the
 * confirmation depth. Deposits credited from the lost blocks may not exist any more, so the
 * indexer stops and an operator must reconcile; nothing is corrected silently.
 */
public final class ReorgDetectedException extends ChainException {
    private final long blockNumber;

    public ReorgDetectedException(long blockNumber, Bytes32 checkpointed, Bytes32 onChain) {
        super("reorganisation deeper than the confirmation depth: block " + blockNumber + " was " + checkpointed
                + ", is now " + onChain);
        this.blockNumber = blockNumber;
    }

    public long blockNumber() {
        return blockNumber;
    }
}
