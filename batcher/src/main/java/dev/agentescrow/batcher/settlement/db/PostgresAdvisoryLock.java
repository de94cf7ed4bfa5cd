package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.settlement.SingleSubmitterLock;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-submitter lock as a PostgreSQL session advisory lock: {@code pg_try_advisory_lock(key)}
 * on a connection of its own, kept open while the lock is held. If that connection dies (the
 * process crashed, or the server dropped the session) the server frees the lock and another
 * submitter acquires it. Not reentrant; one instance per submitter, used by one thread.
 */
public final class PostgresAdvisoryLock implements SingleSubmitterLock {
    /** The default key ("SETTLE" 01); the ledger writer uses a different one. */
    public static final long DEFAULT_KEY = 0x534554544C450001L;

    private static final Logger log = LoggerFactory.getLogger(PostgresAdvisoryLock.class);

    private final DataSource dataSource;
    private final long key;
    private Connection held;

    public PostgresAdvisoryLock(DataSource dataSource, long key) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.key = key;
    }

    public PostgresAdvisoryLock(DataSource dataSource) {
        this(dataSource, DEFAULT_KEY);
    }

    @Override
    public synchronized boolean tryAcquire() {
        if (held != null) {
            throw new IllegalStateException("advisory lock " + key + " is already held by this instance");
        }
        Connection connection = null;
        try {
            connection = dataSource.getConnection();
            connection.setAutoCommit(true);
            try (PreparedStatement s = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
                s.setLong(1, key);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        held = connection;
                        return true;
                    }
                }
            }
            connection.close();
            return false;
        } catch (SQLException e) {
            closeQuietly(connection);
            throw new IllegalStateException("could not try advisory lock " + key, e);
        }
    }

    @Override
    public synchronized void release() {
        if (held == null) {
            throw new IllegalStateException("advisory lock " + key + " is not held by this instance");
        }
        Connection connection = held;
        held = null;
        try (PreparedStatement s = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            s.setLong(1, key);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    log.warn("advisory lock {} was not held by its session any more", key);
                }
            }
        } catch (SQLException e) {
            // The session is gone, and with it the lock: nothing is left to unlock.
            log.warn("could not unlock advisory lock {}; its session is gone, so the server freed it", key, e);
        } finally {
            closeQuietly(connection);
        }
    }

    /** Whether this instance holds the lock on a connection that is still alive. */
    public synchronized boolean isHeld() {
        try {
            return held != null && held.isValid(2);
        } catch (SQLException e) {
            throw new IllegalStateException("could not check the lock connection", e);
        }
    }

    private static void closeQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (SQLException e) {
            log.warn("could not close the lock connection", e);
        }
    }
}
