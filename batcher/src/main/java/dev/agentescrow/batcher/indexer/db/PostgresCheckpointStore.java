package dev.agentescrow.batcher.indexer.db;

import dev.agentescrow.batcher.indexer.CheckpointStore;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.chain.Bytes32;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Indexer checkpoints in the table {@code indexer_checkpoints} (migration V2), one row per stream.
 * A save is one auto-committed upsert: durable when it returns (synchronous commit).
 */
public final class PostgresCheckpointStore implements CheckpointStore {
    private final DataSource dataSource;
    private final Clock clock;

    public PostgresCheckpointStore(DataSource dataSource, Clock clock) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Optional<IndexerCheckpoint> load(String stream) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement(
                     "SELECT block_number, block_hash FROM indexer_checkpoints WHERE stream = ?")) {
            s.setString(1, stream);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new IndexerCheckpoint(rs.getLong(1), Bytes32.fromHex(rs.getString(2))));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not load the checkpoint of stream " + stream, e);
        }
    }

    @Override
    public void save(String stream, IndexerCheckpoint checkpoint) {
        Objects.requireNonNull(checkpoint, "checkpoint");
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     INSERT INTO indexer_checkpoints (stream, block_number, block_hash, updated_at) VALUES (?, ?, ?, ?)
                     ON CONFLICT (stream) DO UPDATE SET block_number = EXCLUDED.block_number,
                         block_hash = EXCLUDED.block_hash, updated_at = EXCLUDED.updated_at""")) {
            c.setAutoCommit(true);
            s.setString(1, stream);
            s.setLong(2, checkpoint.blockNumber());
            s.setString(3, checkpoint.blockHash().hex());
            s.setTimestamp(4, Timestamp.from(clock.instant()));
            s.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("could not save the checkpoint of stream " + stream, e);
        }
    }
}
