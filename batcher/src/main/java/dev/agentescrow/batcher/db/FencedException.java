package dev.agentescrow.batcher.db;

/**
 * A write refused because this process no longer holds the epoch it was elected with: another
 * process has taken over. The transaction rolls back; nothing it wrote is kept.
 */
public final class FencedException extends RuntimeException {
    private final long epoch;

    public FencedException(long epoch) {
        super("write refused: epoch " + epoch + " has been superseded by a newer leader");
        this.epoch = epoch;
    }

    /** The epoch this process was elected with and no longer holds. */
    public long epoch() {
        return epoch;
    }
}
