package dev.agentescrow.batcher.settlement;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What waits for settlement: how many committed movements are not yet in a batch, and when the
 * oldest of them was committed ({@code null} exactly when there are none).
 */
public record UnsettledBacklog(int count, Instant oldestCommittedAt) {
    /** Nothing waits. */
    public static final UnsettledBacklog EMPTY = new UnsettledBacklog(0, null);

    public UnsettledBacklog {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative: " + count);
        }
        if ((count == 0) != (oldestCommittedAt == null)) {
            throw new IllegalArgumentException("the oldest commit time is given exactly when count > 0: count " + count
                    + ", oldest " + oldestCommittedAt);
        }
    }

    public static UnsettledBacklog of(int count, Instant oldestCommittedAt) {
        return new UnsettledBacklog(count, Objects.requireNonNull(oldestCommittedAt, "oldestCommittedAt"));
    }

    public Optional<Instant> oldest() {
        return Optional.ofNullable(oldestCommittedAt);
    }

    public boolean isEmpty() {
        return count == 0;
    }
}
