package dev.agentescrow.batcher.leadership;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a batcher process takes and keeps the lead on its database.
 *
 * @param nodeId this process's id, stored with the epoch it is elected with (default: pid@host)
 * @param address host:port where the service forwards requests that need the writer (stored for
 *                the other instances), if the service has one
 * @param pollInterval how often a standby tries the writer lock ({@code pg_try_advisory_lock})
 * @param heartbeatInterval how often the leader runs its heartbeat on the lock session
 * @param heartbeatTimeout how long the leader waits for the heartbeat (query timeout and socket
 *                         timeout of the lock session) before it steps down: a half-open
 *                         connection is noticed within {@code heartbeatInterval + heartbeatTimeout}
 * @param sessionIdleTimeout the lock session's {@code idle_session_timeout} (and TCP user timeout)
 *                           on the server: a leader whose heartbeats stop arriving loses the lock
 *                           after this long, so a standby takes over even when the leader's host
 *                           still answers TCP; must exceed {@code heartbeatInterval}
 * @param takeoverLockTimeout how long a takeover waits for a deposed leader's open write
 *                            transactions before it terminates their sessions
 */
public record LeadershipConfig(String nodeId, Optional<String> address, Duration pollInterval,
                               Duration heartbeatInterval, Duration heartbeatTimeout, Duration sessionIdleTimeout,
                               Duration takeoverLockTimeout) {

    public LeadershipConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(address, "address");
        if (nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId must not be blank");
        }
        for (Duration d : new Duration[] {pollInterval, heartbeatInterval, heartbeatTimeout, sessionIdleTimeout,
                takeoverLockTimeout}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("every leadership interval must be positive: " + d);
            }
        }
        if (sessionIdleTimeout.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException("sessionIdleTimeout (" + sessionIdleTimeout
                    + ") must exceed heartbeatInterval (" + heartbeatInterval + ")");
        }
    }

    /**
     * This process (pid@host), no forwarding address, standby polls every second, heartbeat every
     * second with a 3 s timeout, a lock session the server ends after 5 s without a heartbeat, a
     * takeover that waits 2 s for a deposed leader's open writes.
     */
    public static LeadershipConfig defaults() {
        return new LeadershipConfig(ManagementFactory.getRuntimeMXBean().getName(), Optional.empty(),
                Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(5),
                Duration.ofSeconds(2));
    }

    public LeadershipConfig withNodeId(String id) {
        return new LeadershipConfig(id, address, pollInterval, heartbeatInterval, heartbeatTimeout,
                sessionIdleTimeout, takeoverLockTimeout);
    }

    /** These settings with the host:port the service forwards to. */
    public LeadershipConfig withAddress(String hostPort) {
        return new LeadershipConfig(nodeId, Optional.of(hostPort), pollInterval, heartbeatInterval, heartbeatTimeout,
                sessionIdleTimeout, takeoverLockTimeout);
    }

    public LeadershipConfig withPollInterval(Duration interval) {
        return new LeadershipConfig(nodeId, address, interval, heartbeatInterval, heartbeatTimeout,
                sessionIdleTimeout, takeoverLockTimeout);
    }

    /** These settings with other heartbeat and session timings. */
    public LeadershipConfig withTimings(Duration heartbeat, Duration timeout, Duration sessionIdle) {
        return new LeadershipConfig(nodeId, address, pollInterval, heartbeat, timeout, sessionIdle,
                takeoverLockTimeout);
    }
}
