package dev.agentescrow.batcher.settlement;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * When to cut the next batch: as soon as {@code maxTransfers} movements wait, or once the oldest
 * waiting movement has waited {@code maxDelay}, whichever comes first. Pure policy, no threads:
 * a scheduler asks {@link #check} and sleeps until {@link Decision#nextCheckAt()} (or until new
 * movements arrive, since the count bound can be reached earlier than the delay).
 *
 * @param maxTransfers a batch is due once this many movements wait (default 100)
 * @param maxDelay a batch is due once the oldest waiting movement is this old (default 300 s)
 * @param clock the time source; inject a fixed or mutable clock in tests
 */
public record BatchTrigger(int maxTransfers, Duration maxDelay, Clock clock) {
    public static final int DEFAULT_MAX_TRANSFERS = 100;
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(300);

    public BatchTrigger {
        if (maxTransfers < 1) {
            throw new IllegalArgumentException("maxTransfers must be positive: " + maxTransfers);
        }
        Objects.requireNonNull(maxDelay, "maxDelay");
        if (maxDelay.isNegative() || maxDelay.isZero()) {
            throw new IllegalArgumentException("maxDelay must be positive: " + maxDelay);
        }
        Objects.requireNonNull(clock, "clock");
    }

    /** 100 movements or 300 seconds, whichever first. */
    public static BatchTrigger withDefaults(Clock clock) {
        return new BatchTrigger(DEFAULT_MAX_TRANSFERS, DEFAULT_MAX_DELAY, clock);
    }

    /** Whether a batch is due now for {@code backlog}, and when to check again. */
    public Decision check(UnsettledBacklog backlog) {
        Instant now = clock.instant();
        if (backlog.isEmpty()) {
            // a movement committed from now on is due maxDelay after its commit, never earlier
            return new Decision(Reason.IDLE, now.plus(maxDelay));
        }
        if (backlog.count() >= maxTransfers) {
            return new Decision(Reason.FULL, now);
        }
        Instant overdueAt = backlog.oldestCommittedAt().plus(maxDelay);
        if (!now.isBefore(overdueAt)) {
            return new Decision(Reason.OVERDUE, now);
        }
        return new Decision(Reason.WAITING, overdueAt);
    }

    /** Why a batch is or is not due. */
    public enum Reason {
        /** Nothing waits. */
        IDLE,
        /** Fewer than {@code maxTransfers} movements wait and none for {@code maxDelay} yet. */
        WAITING,
        /** At least {@code maxTransfers} movements wait: due. */
        FULL,
        /** The oldest movement has waited at least {@code maxDelay}: due. */
        OVERDUE
    }

    /**
     * @param reason why
     * @param nextCheckAt now if due; else when the delay bound will make a batch due (for an empty
     *     backlog: now + maxDelay)
     */
    public record Decision(Reason reason, Instant nextCheckAt) {
        public Decision {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(nextCheckAt, "nextCheckAt");
        }

        /** Whether a batch should be cut now. */
        public boolean due() {
            return reason == Reason.FULL || reason == Reason.OVERDUE;
        }
    }
}
