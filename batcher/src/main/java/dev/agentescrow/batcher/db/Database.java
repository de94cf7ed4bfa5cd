package dev.agentescrow.batcher.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pooled connection to the configured PostgreSQL; when no JDBC URL is configured it starts an
 * embedded PostgreSQL (real server binaries) whose data directory survives restarts, with
 * {@link DatabaseConfig#embeddedSettings()} (WAL size, checkpoint interval, buffers). Every
 * connection runs with {@code synchronous_commit = on}: a commit returns only once it is on disk.
 * Connections use TCP keepalive and a socket timeout ({@value #SOCKET_TIMEOUT_SECONDS} s: no
 * statement of the batcher runs that long), so a connection to a dead or unreachable server fails
 * instead of hanging; a JDBC URL may set {@code socketTimeout}, {@code tcpKeepAlive} and
 * {@code connectTimeout} itself (the URL's values win). The server ends a session left idle inside a
 * transaction after {@value #IDLE_IN_TRANSACTION_TIMEOUT_SECONDS} s, so a silent client cannot hold
 * its row locks for longer.
 */
public final class Database implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    /** pgjdbc {@code socketTimeout} of pooled connections, unless the JDBC URL sets one. */
    public static final int SOCKET_TIMEOUT_SECONDS = 60;
    /** pgjdbc {@code connectTimeout}, unless the JDBC URL sets one. */
    public static final int CONNECT_TIMEOUT_SECONDS = 10;
    /**
     * How long the server keeps a session that sits idle inside a transaction before it ends it.
     * A process that goes silent mid-transaction (a half-open connection, a partition) otherwise
     * keeps its row locks until the server's TCP keepalive notices, hours later; a deposed leader's
     * open checkpoint or batch update would stop the new leader from settling for that long. No
     * transaction of the batcher or the service waits this long between two statements.
     */
    public static final int IDLE_IN_TRANSACTION_TIMEOUT_SECONDS = 30;
    /** What every pooled connection of the batcher and of the service runs first. */
    public static final String SESSION_INIT_SQL = "SET synchronous_commit = on; SET idle_in_transaction_session_timeout = '"
            + IDLE_IN_TRANSACTION_TIMEOUT_SECONDS + "s'";

    private final EmbeddedPostgres embedded;
    private final HikariDataSource dataSource;
    private final String jdbcUrl;

    private Database(EmbeddedPostgres embedded, HikariDataSource dataSource, String jdbcUrl) {
        this.embedded = embedded;
        this.dataSource = dataSource;
        this.jdbcUrl = jdbcUrl;
    }

    public static Database start(DatabaseConfig config) {
        EmbeddedPostgres embedded = null;
        String url;
        if (config.jdbcUrl().isPresent()) {
            url = config.jdbcUrl().get();
        } else {
            embedded = startEmbedded(config);
            url = embedded.getJdbcUrl("postgres", "postgres");
        }
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(url);
        hikari.setUsername(config.user());
        hikari.setPassword(config.password());
        hikari.setMaximumPoolSize(config.poolSize());
        hikari.setPoolName("agentescrow-db");
        hikari.setConnectionInitSql(SESSION_INIT_SQL);
        hikari.addDataSourceProperty("tcpKeepAlive", "true");
        hikari.addDataSourceProperty("socketTimeout", Integer.toString(SOCKET_TIMEOUT_SECONDS));
        hikari.addDataSourceProperty("connectTimeout", Integer.toString(CONNECT_TIMEOUT_SECONDS));
        try {
            return new Database(embedded, new HikariDataSource(hikari), url);
        } catch (RuntimeException e) {
            closeEmbedded(embedded);
            throw e;
        }
    }

    private static EmbeddedPostgres startEmbedded(DatabaseConfig config) {
        try {
            Files.createDirectories(config.embeddedDataDir());
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
            config.embeddedSettings().forEach(builder::setServerConfig);
            EmbeddedPostgres pg = builder
                    .setDataDirectory(config.embeddedDataDir())
                    .setCleanDataDirectory(false)
                    // zonky defaults to synchronous_commit=off for tests; the ledger needs durability.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("fsync", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("max_connections", "100")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .start();
            LOG.info("embedded PostgreSQL on port {} with data in {}", pg.getPort(), config.embeddedDataDir());
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start embedded PostgreSQL in " + config.embeddedDataDir(), e);
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public boolean isEmbedded() {
        return embedded != null;
    }

    /** Closes the pool and stops the embedded PostgreSQL, if any. */
    @Override
    public void close() {
        if (embedded != null) {
            checkpoint();
        }
        dataSource.close();
        closeEmbedded(embedded);
    }

    /** Flushes dirty pages now: the embedded server's stop waits only a few seconds. */
    private void checkpoint() {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            LOG.warn("checkpoint before stopping embedded PostgreSQL failed", e);
        }
    }

    private static void closeEmbedded(EmbeddedPostgres embedded) {
        if (embedded == null) {
            return;
        }
        try {
            embedded.close();
        } catch (IOException e) {
            throw new UncheckedIOException("could not stop embedded PostgreSQL", e);
        }
    }
}
