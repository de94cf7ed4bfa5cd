package dev.agentescrow.batcher.settlement;

/**
 * Ensures that at most one submitter process settles at a time (e.g. a PostgreSQL advisory lock).
 * A submitter that cannot acquire it does nothing.
 */
public interface SingleSubmitterLock {

    /** Takes the lock if no other submitter holds it; {@code false} if another does. */
    boolean tryAcquire();

    /** Gives the lock back; only after a successful {@link #tryAcquire}. */
    void release();
}
