package dev.agentescrow.batcher.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One real embedded PostgreSQL per test JVM (synchronous commit on, as in production), stopped
 * when the JVM's tests end. Tests take a {@link TestDatabases} parameter and create a fresh,
 * empty database per test class or test with {@link TestDatabases#create()}.
 */
public final class EmbeddedPostgresExtension implements ParameterResolver {
    private static final Object LOCK = new Object();
    private static final AtomicInteger COUNTER = new AtomicInteger();

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == TestDatabases.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext.Store store = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL);
        synchronized (LOCK) {
            Server server = store.getOrComputeIfAbsent(Server.class, key -> Server.start(), Server.class);
            return server.databases;
        }
    }

    /** The running server; JUnit closes it (an AutoCloseable in the root store) after the last test. */
    private static final class Server implements AutoCloseable {
        private final EmbeddedPostgres postgres;
        private final TestDatabases databases;

        private Server(EmbeddedPostgres postgres) {
            this.postgres = postgres;
            this.databases = new TestDatabases() {
                @Override
                public DataSource create() {
                    String name = "ledger_test_" + ProcessHandle.current().pid() + "_" + COUNTER.incrementAndGet();
                    try (Connection c = postgres.getPostgresDatabase().getConnection();
                         Statement s = c.createStatement()) {
                        s.execute("CREATE DATABASE " + name);
                    } catch (SQLException e) {
                        throw new IllegalStateException("could not create test database " + name, e);
                    }
                    return postgres.getDatabase("postgres", name);
                }

                @Override
                public EmbeddedPostgres server() {
                    return postgres;
                }
            };
        }

        static Server start() {
            try {
                Path dataDir = Files.createTempDirectory("ledger-it-pg");
                return new Server(EmbeddedPostgres.builder()
                        .setDataDirectory(dataDir)
                        .setCleanDataDirectory(true)
                        .setServerConfig("synchronous_commit", "on")
                        .setServerConfig("fsync", "on")
                        .start());
            } catch (IOException e) {
                throw new UncheckedIOException("could not start embedded PostgreSQL", e);
            }
        }

        @Override
        public void close() throws IOException {
            // Checkpoint first: zonky's stop waits only 5 s, too short for the shutdown checkpoint
            // of many test databases with fsync on.
            try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CHECKPOINT");
            } catch (SQLException e) {
                throw new IOException("checkpoint before shutdown failed", e);
            }
            postgres.close();
        }
    }
}
