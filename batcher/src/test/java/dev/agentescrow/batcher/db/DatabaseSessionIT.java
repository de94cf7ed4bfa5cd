package dev.agentescrow.batcher.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.TestDatabases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What every pooled session runs with. A client that goes silent inside a transaction (a
 * half-open connection: a deposed leader behind a partition) must not keep its row locks until the
 * server's TCP keepalive notices: the server ends the session after a bounded idle time.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class DatabaseSessionIT {

    @Test
    void pooledSessionsCommitDurablyAndAreEndedWhenIdleInsideATransaction(TestDatabases databases)
            throws SQLException {
        DataSource created = databases.create();
        String url;
        try (Connection c = created.getConnection()) {
            url = "jdbc:postgresql://127.0.0.1:" + databases.server().getPort() + "/" + c.getCatalog();
        }
        try (Database database = Database.start(DatabaseConfig.external(url, "postgres", "postgres"));
             Connection c = database.dataSource().getConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('synchronous_commit'),"
                     + " current_setting('idle_in_transaction_session_timeout')")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("on");
            assertThat(rs.getString(2)).isEqualTo(Database.IDLE_IN_TRANSACTION_TIMEOUT_SECONDS + "s");
        }
    }

    /** The server setting the pool relies on, shortened: a silent lock holder loses its locks. */
    @Test
    void aSessionIdleInsideATransactionLosesItsRowLocks(TestDatabases databases) throws Exception {
        DataSource ds = databases.create();
        try (Connection setup = ds.getConnection(); Statement s = setup.createStatement()) {
            s.execute("CREATE TABLE locked (id INT PRIMARY KEY, n INT)");
            s.execute("INSERT INTO locked VALUES (1, 0)");
        }
        try (Connection silent = ds.getConnection(); Connection next = ds.getConnection()) {
            try (Statement s = silent.createStatement()) {
                s.execute("SET idle_in_transaction_session_timeout = '500ms'");
                silent.setAutoCommit(false);
                s.executeUpdate("UPDATE locked SET n = 1 WHERE id = 1");
            }
            try (Statement s = next.createStatement()) {
                s.execute("SET lock_timeout = '10s'");
                assertThat(s.executeUpdate("UPDATE locked SET n = 2 WHERE id = 1")).isEqualTo(1);
            }
            assertThatThrownBy(silent::commit).isInstanceOf(SQLException.class);
        }
    }
}
