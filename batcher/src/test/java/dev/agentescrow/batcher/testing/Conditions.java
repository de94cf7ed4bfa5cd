package dev.agentescrow.batcher.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition that the batcher's own scheduler brings about (a deposit credited, a
 * batch confirmed, a reconciliation run): it re-reads the state at a short interval until the
 * condition holds, and fails with what it waited for once the limit has passed.
 */
public final class Conditions {
    /** Long enough for a loaded 2-core CI machine; a healthy run waits a second or two. */
    public static final Duration WAIT_LIMIT = Duration.ofSeconds(60);
    private static final long POLL_NANOS = Duration.ofMillis(50).toNanos();

    private Conditions() {
    }

    public static void awaitUntil(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT_LIMIT + ": " + what);
            }
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.currentThread().isInterrupted()) {
                throw new AssertionError("interrupted while waiting until " + what);
            }
        }
    }
}
