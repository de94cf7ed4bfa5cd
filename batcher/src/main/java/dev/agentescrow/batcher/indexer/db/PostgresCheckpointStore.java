package dev.agentescrow.batcher.indexer.db;

import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.indexer.CheckpointStore;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Indexer checkpoints in the table {@code indexer_checkpoints} (migration V2), one row per stream,
 * and custody holds in {@code indexer_custody_holds} (migration V10_5). Every write is one
 * statement in a transaction that commits only if the {@link WriteFence} passes just before (a
 * deposed leader's indexer moves no checkpoint and no hold): durable when it returns.
 */
public final class PostgresCheckpointStore implements CheckpointStore {
    private static final String HOLD_COLUMNS = "kind, tx_hash, ordinal, incarnation, block_number, block_hash, "
            + "log_index, token, account, amount, state";

    private final DataSource dataSource;
    private final Clock clock;
    private final WriteFence fence;

    /** A store that relies on its caller alone to be the only writer. */
    public PostgresCheckpointStore(DataSource dataSource, Clock clock) {
        this(dataSource, clock, WriteFence.NONE);
    }

    /** A store whose writes commit only while {@code fence} passes (a leader's epoch). */
    public PostgresCheckpointStore(DataSource dataSource, Clock clock, WriteFence fence) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.fence = Objects.requireNonNull(fence, "fence");
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
            c.setAutoCommit(false);
            s.setString(1, stream);
            s.setLong(2, checkpoint.blockNumber());
            s.setString(3, checkpoint.blockHash().hex());
            s.setTimestamp(4, Timestamp.from(clock.instant()));
            commitFenced(c, s);
        } catch (SQLException e) {
            throw new IllegalStateException("could not save the checkpoint of stream " + stream, e);
        }
    }

    @Override
    public Optional<CustodyHold> liveHold(String stream, CustodyEvent.Key key) {
        List<CustodyHold> found = holds("SELECT " + HOLD_COLUMNS + " FROM indexer_custody_holds "
                + "WHERE stream = ? AND kind = ? AND tx_hash = ? AND ordinal = ? AND state <> 'VOIDED'", s -> {
                    s.setString(1, stream);
                    s.setString(2, key.kind().name());
                    s.setString(3, key.txHash().value());
                    s.setInt(4, key.ordinal());
                });
        return found.stream().findFirst();
    }

    @Override
    public int holdCount(String stream, CustodyEvent.Key key) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM indexer_custody_holds "
                     + "WHERE stream = ? AND kind = ? AND tx_hash = ? AND ordinal = ?")) {
            s.setString(1, stream);
            s.setString(2, key.kind().name());
            s.setString(3, key.txHash().value());
            s.setInt(4, key.ordinal());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not count the holds of " + key, e);
        }
    }

    @Override
    public void saveHold(String stream, CustodyHold hold) {
        CustodyEvent event = hold.event();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("INSERT INTO indexer_custody_holds (stream, " + HOLD_COLUMNS
                     + ", updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     + "ON CONFLICT (stream, kind, tx_hash, ordinal, incarnation) "
                     + "DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at")) {
            c.setAutoCommit(false);
            s.setString(1, stream);
            s.setString(2, event.kind().name());
            s.setString(3, event.position().txHash().value());
            s.setInt(4, event.ordinal());
            s.setInt(5, hold.incarnation());
            s.setLong(6, event.position().blockNumber());
            s.setString(7, event.position().blockHash().hex());
            s.setLong(8, event.position().logIndex());
            s.setString(9, event.token().hex());
            s.setString(10, event.account().hex());
            s.setBigDecimal(11, new BigDecimal(event.amount().baseUnits()));
            s.setString(12, hold.state().name());
            s.setTimestamp(13, Timestamp.from(clock.instant()));
            commitFenced(c, s);
        } catch (SQLException e) {
            throw new IllegalStateException("could not save the hold " + hold, e);
        }
    }

    @Override
    public List<CustodyHold> openHolds(String stream, long finalBlock) {
        return holds("SELECT " + HOLD_COLUMNS + " FROM indexer_custody_holds WHERE stream = ? "
                + "AND (state = 'PENDING' OR (state = 'REJECTED' AND block_number > ?)) "
                + "ORDER BY block_number, log_index", s -> {
                    s.setString(1, stream);
                    s.setLong(2, finalBlock);
                });
    }

    /** Runs {@code statement} and commits it if the fence passes; rolls back otherwise. */
    private void commitFenced(Connection c, PreparedStatement statement) throws SQLException {
        try {
            statement.executeUpdate();
            fence.check(c);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        }
    }

    private interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    private List<CustodyHold> holds(String sql, Binder binder) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement(sql)) {
            binder.bind(s);
            List<CustodyHold> holds = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    LogPosition position = new LogPosition(new TxHash(rs.getString(2)), rs.getLong(5), rs.getLong(7),
                            Bytes32.fromHex(rs.getString(6)));
                    CustodyEvent event = new CustodyEvent(CustodyEvent.Kind.valueOf(rs.getString(1)),
                            Address.of(rs.getString(8)), Address.of(rs.getString(9)),
                            Amount.of(rs.getBigDecimal(10).toBigIntegerExact()), position, rs.getInt(3));
                    holds.add(new CustodyHold(event, rs.getInt(4), CustodyHold.State.valueOf(rs.getString(11))));
                }
            }
            return holds;
        } catch (SQLException e) {
            throw new IllegalStateException("could not read custody holds", e);
        }
    }
}
