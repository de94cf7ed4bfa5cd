package dev.agentescrow.batcher.leadership;

import java.time.Instant;
import java.util.Objects;

/**
 * One change of a process's role, as its listeners hear it.
 *
 * @param role the role from now on
 * @param epoch the epoch this process was elected with (when {@code role} is LEADER), or the
 *              epoch it last held (0 if it never led)
 * @param reason why the role changed
 * @param detail a sentence for the log
 * @param at when this process noticed (its own clock; for display only)
 */
public record LeadershipChange(Role role, long epoch, Reason reason, String detail, Instant at) {
    /** Why a role changed. */
    public enum Reason {
        /** The current state, told to a listener when it registers. */
        CURRENT,
        /** This process took the writer lock and incremented the epoch. */
        ELECTED,
        /** The lock session's heartbeat failed or timed out: the database may already have ended it. */
        LOCK_SESSION_LOST,
        /** A write was refused because a newer epoch exists: another process leads. */
        FENCED,
        /** Starting the leader's components failed after the lock was taken; the lock was given back (role stays STANDBY). */
        TERM_FAILED,
        /** The batcher is closing. */
        CLOSED
    }

    public LeadershipChange {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(at, "at");
    }
}
