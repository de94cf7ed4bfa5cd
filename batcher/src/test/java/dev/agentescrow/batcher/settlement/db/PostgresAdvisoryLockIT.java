package dev.agentescrow.batcher.settlement.db;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class PostgresAdvisoryLockIT {

    @Test
    void onlyOneOfTwoSubmittersHoldsTheLock(TestDatabases databases) {
        DataSource dataSource = databases.create();
        PostgresAdvisoryLock first = new PostgresAdvisoryLock(dataSource);
        PostgresAdvisoryLock second = new PostgresAdvisoryLock(dataSource);

        assertThat(first.tryAcquire()).isTrue();
        assertThat(second.tryAcquire()).isFalse();
        assertThat(second.tryAcquire()).isFalse();
        first.release();

        assertThat(second.tryAcquire()).isTrue();
        assertThat(first.tryAcquire()).isFalse();
        second.release();
        assertThat(first.tryAcquire()).isTrue();
        first.release();
    }

    @Test
    void theLockIsFreedWhenTheHoldersConnectionDies(TestDatabases databases) throws SQLException {
        DataSource dataSource = databases.create();
        PostgresAdvisoryLock holder = new PostgresAdvisoryLock(dataSource);
        PostgresAdvisoryLock other = new PostgresAdvisoryLock(dataSource);
        assertThat(holder.tryAcquire()).isTrue();
        assertThat(other.tryAcquire()).isFalse();

        try (Connection admin = dataSource.getConnection();
             PreparedStatement s = admin.prepareStatement("""
                     SELECT pg_terminate_backend(pid) FROM pg_locks
                     WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND ((classid::bigint << 32) | objid::bigint) = ?""")) {
            s.setLong(1, PostgresAdvisoryLock.DEFAULT_KEY);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).isTrue();
            }
        }

        // pg_terminate_backend only signals the backend: the lock is free once it has exited, which
        // on a loaded machine is not at once (as for a submitter, the next try after that wins).
        awaitUntil("the other instance acquires the lock once the holder's backend has exited", other::tryAcquire);
        assertThat(holder.isHeld()).isFalse();
        holder.release();
        assertThat(other.isHeld()).isTrue();
        other.release();
    }
}
