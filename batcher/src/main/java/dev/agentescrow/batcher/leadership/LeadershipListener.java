package dev.agentescrow.batcher.leadership;

/**
 * Told every role change of this process, in order, on a thread of its own (never the election's:
 * a slow listener cannot delay the lock session's heartbeat). Told the current state first when it
 * registers.
 */
@FunctionalInterface
public interface LeadershipListener {
    void changed(LeadershipChange change);
}
