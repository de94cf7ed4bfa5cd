package dev.agentescrow.backend.fee;

import java.time.Instant;
import java.util.Objects;

/**
 * One distribution period: number {@code n} covers the fees recorded since period {@code n - 1}
 * was planned ({@code startsAt} to {@code endsAt}). PLANNED: its payments are fixed and being
 * paid; DISTRIBUTED: every payment is in the ledger.
 */
public record FeePeriod(long number, Instant startsAt, Instant endsAt, Trigger trigger, String actor, State state,
                        Instant plannedAt, Instant distributedAt) {
    public enum Trigger { SCHEDULE, ADMIN }

    public enum State { PLANNED, DISTRIBUTED }

    public FeePeriod {
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(state, "state");
        if (number < 1) {
            throw new IllegalArgumentException("periods are numbered from 1: " + number);
        }
    }
}
