package dev.agentescrow.backend.cluster;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the service's PostgreSQL is: a JDBC URL, or an embedded PostgreSQL 17 whose data lives in a
 * folder and survives restarts. The embedded server registers no JVM shutdown hook of its own: it is
 * a Spring bean that every user of the database depends on, so Spring stops it last, after the
 * batcher, the pool and every other bean (a shutdown hook of its own would race Spring's and stop
 * the server under beans that are still closing).
 */
public final class DatabaseServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DatabaseServer.class);

    private final Optional<EmbeddedPostgres> embedded;
    private final String jdbcUrl;
    private final String user;
    private final String password;

    private DatabaseServer(Optional<EmbeddedPostgres> embedded, String jdbcUrl, String user, String password) {
        this.embedded = embedded;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
    }

    /** A PostgreSQL the service does not run. */
    public static DatabaseServer external(String jdbcUrl, String user, String password) {
        return new DatabaseServer(Optional.empty(), jdbcUrl, user, password);
    }

    /** Starts an embedded PostgreSQL keeping its data in {@code dataDir} (created if missing, never cleaned). */
    public static DatabaseServer embedded(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setRegisterShutdownHook(false)
                    // zonky defaults to synchronous_commit=off for tests; the ledger needs durability.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("fsync", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("max_connections", "200")
                    .setPGStartupWait(Duration.ofSeconds(60))
                    .start();
            log.info("embedded PostgreSQL on port {} with data in {}", pg.getPort(), dataDir);
            return new DatabaseServer(Optional.of(pg), pg.getJdbcUrl("postgres", "postgres"), "postgres", "postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("could not start embedded PostgreSQL in " + dataDir, e);
        }
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public boolean isEmbedded() {
        return embedded.isPresent();
    }

    /** Stops the embedded server (after a checkpoint: its stop waits only a few seconds); nothing for an external one. */
    @Override
    public void close() {
        if (embedded.isEmpty()) {
            return;
        }
        try (Connection c = DriverManager.getConnection(jdbcUrl, user, password); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        } catch (SQLException e) {
            log.warn("checkpoint before stopping embedded PostgreSQL failed: {}", e.getMessage());
        }
        try {
            embedded.get().close();
            log.info("embedded PostgreSQL stopped");
        } catch (IOException e) {
            throw new UncheckedIOException("could not stop embedded PostgreSQL", e);
        }
    }
}
