package dev.agentescrow.backend.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition the service's scheduler brings about (a deposit credited, a batch
 * confirmed): re-reads the state at a short interval until it holds, failing with what it waited
 * for once the limit has passed (as the batcher's tests do).
 */
public final class Conditions {
    public static final Duration WAIT_LIMIT = Duration.ofSeconds(90);
    private static final long POLL_NANOS = Duration.ofMillis(100).toNanos();

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
