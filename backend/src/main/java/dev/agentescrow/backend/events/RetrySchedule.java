package dev.agentescrow.backend.events;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * When a failed delivery is tried again: {@code initial * 2^(attempt-1)}, at most {@code max}, plus
 * a jitter of up to a quarter of that (so that endpoints that failed together do not all come back
 * at once). The jitter only lengthens a wait, so the schedule without jitter is the shortest.
 */
public record RetrySchedule(Duration initial, Duration max, int maxAttempts) {

    /** The wait after failed attempt number {@code attempt} (1-based), with {@code random} in [0, 1). */
    public Duration delayAfter(int attempt, DoubleSupplier random) {
        Duration base = baseDelayAfter(attempt);
        long jitterMillis = (long) (base.toMillis() * 0.25 * random.getAsDouble());
        return base.plusMillis(jitterMillis);
    }

    /** The wait after failed attempt {@code attempt} without jitter. */
    public Duration baseDelayAfter(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempts count from 1: " + attempt);
        }
        int doublings = Math.min(attempt - 1, 40);
        Duration delay = initial.multipliedBy(1L << doublings);
        return delay.compareTo(max) > 0 || delay.isNegative() ? max : delay;
    }

    /** The shortest time from the first attempt to the last (every wait without jitter). */
    public Duration shortestSpan() {
        Duration total = Duration.ZERO;
        for (int attempt = 1; attempt < maxAttempts; attempt++) {
            total = total.plus(baseDelayAfter(attempt));
        }
        return total;
    }

    /** Whether failed attempt {@code attempt} was the last one. */
    public boolean exhausted(int attempt) {
        return attempt >= maxAttempts;
    }
}
