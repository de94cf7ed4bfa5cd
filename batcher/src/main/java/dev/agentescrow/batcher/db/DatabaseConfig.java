package dev.agentescrow.batcher.db;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the PostgreSQL database is. Without a JDBC URL an embedded PostgreSQL is started whose
 * data lives in {@code embeddedDataDir} and survives restarts.
 *
 * @param poolSize connections in the pool (the ledger writer keeps one of them)
 * @param embeddedSettings server settings of the embedded PostgreSQL (ignored for a JDBC URL):
 *     {@link #EMBEDDED_DEFAULTS} unless replaced, see docs/ledger.md
 */
public record DatabaseConfig(
        Optional<String> jdbcUrl, String user, String password, Path embeddedDataDir, int poolSize,
        Map<String, String> embeddedSettings) {

    /**
     * Settings of the embedded server for the ledger's write load (measured in docs/ledger.md):
     * WAL may grow to 4 GB and a checkpoint is due every 15 minutes (the server's defaults, 1 GB
     * and 5 minutes, force a checkpoint and then a burst of full-page writes every minute or two
     * under load), spread over 90 % of the interval; 256 MB of shared buffers hold the hot
     * indexes of {@code transfers}; WAL segments are kept for reuse (1 GB) instead of being
     * created anew.
     */
    public static final Map<String, String> EMBEDDED_DEFAULTS = Map.of(
            "max_wal_size", "4GB",
            "min_wal_size", "1GB",
            "checkpoint_timeout", "15min",
            "checkpoint_completion_target", "0.9",
            "shared_buffers", "256MB");

    public DatabaseConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        Objects.requireNonNull(embeddedDataDir, "embeddedDataDir");
        embeddedSettings = Map.copyOf(embeddedSettings);
        if (poolSize < 2) {
            throw new IllegalArgumentException("poolSize must be at least 2 (writer + readers): " + poolSize);
        }
    }

    /** An embedded PostgreSQL keeping its data in {@code dataDir}. */
    public static DatabaseConfig embedded(Path dataDir) {
        return new DatabaseConfig(Optional.empty(), "postgres", "postgres", dataDir, 8, EMBEDDED_DEFAULTS);
    }

    /** Any PostgreSQL (13 or newer) by JDBC URL. */
    public static DatabaseConfig external(String jdbcUrl, String user, String password) {
        return new DatabaseConfig(Optional.of(jdbcUrl), user, password, Path.of("unused"), 8, Map.of());
    }

    /** With the embedded defaults for an embedded server. */
    public DatabaseConfig(Optional<String> jdbcUrl, String user, String password, Path embeddedDataDir, int poolSize) {
        this(jdbcUrl, user, password, embeddedDataDir, poolSize, EMBEDDED_DEFAULTS);
    }

    public DatabaseConfig withPoolSize(int size) {
        return new DatabaseConfig(jdbcUrl, user, password, embeddedDataDir, size, embeddedSettings);
    }

    /** The embedded server with these settings instead of {@link #EMBEDDED_DEFAULTS}. */
    public DatabaseConfig withEmbeddedSettings(Map<String, String> settings) {
        return new DatabaseConfig(jdbcUrl, user, password, embeddedDataDir, poolSize, settings);
    }
}
