package dev.agentescrow.batcher.db;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the PostgreSQL database is. Without a JDBC URL an embedded PostgreSQL is started whose
 * data lives in {@code embeddedDataDir} and survives restarts.
 *
 * @param poolSize connections in the pool (the ledger writer keeps one of them)
 */
public record DatabaseConfig(
        Optional<String> jdbcUrl, String user, String password, Path embeddedDataDir, int poolSize) {

    public DatabaseConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(embeddedDataDir, "embeddedDataDir");
        if (poolSize < 2) {
            throw new IllegalArgumentException("poolSize must be at least 2 (writer + readers): " + poolSize);
        }
    }

    /** An embedded PostgreSQL keeping its data in {@code dataDir}. */
    public static DatabaseConfig embedded(Path dataDir) {
        return new DatabaseConfig(Optional.empty(), "postgres", "postgres", dataDir, 8);
    }

    /** Any PostgreSQL (13 or newer) by JDBC URL. */
    public static DatabaseConfig external(String jdbcUrl, String user, String password) {
        return new DatabaseConfig(Optional.of(jdbcUrl), user, password, Path.of("unused"), 8);
    }

    public DatabaseConfig withPoolSize(int size) {
        return new DatabaseConfig(jdbcUrl, user, password, embeddedDataDir, size);
    }
}
