package dev.agentescrow.batcher.leadership;

import java.time.Instant;
import java.util.Optional;

/**
 * The row of the {@code leadership} table: who was elected last, with which epoch, and where the
 * service forwards requests that need the writer. The times are the database's and are for display
 * only: nothing decides on them (a process leads while it holds the writer lock, and writes while
 * its epoch is current).
 *
 * @param epoch incremented by every takeover; 0 before the first
 * @param leaderId the elected process's id ({@link LeadershipConfig#nodeId()})
 * @param address host:port the service gave for forwarding, if any
 * @param electedAt when the epoch was taken (database time)
 * @param heartbeatAt the lock session's last heartbeat (database time)
 */
public record LeaderInfo(long epoch, String leaderId, Optional<String> address, Instant electedAt,
                         Instant heartbeatAt) {
}
