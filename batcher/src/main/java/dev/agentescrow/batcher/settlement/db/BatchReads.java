package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.NettedBatch;
import dev.agentescrow.batcher.settlement.SettlementInconsistencyException;
import dev.agentescrow.chain.Bytes32;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Inclusion proofs of settled movements, read from the settlement tables alone: any instance on
 * the database can serve them, with or without a ledger writer or submitter (issue 11). A
 * confirmed batch never changes, so rebuilt batches are cached (a bounded number).
 */
public final class BatchReads {
    /** A bound on memory: a batch of 16,384 movements is a few MB in memory. */
    static final int CACHED_BATCHES = 32;

    private final DataSource dataSource;
    private final Map<Long, NettedBatch> confirmed = Collections.synchronizedMap(
            new LinkedHashMap<Long, NettedBatch>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, NettedBatch> eldest) {
                    return size() > CACHED_BATCHES;
                }
            });

    public BatchReads(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The proof of a movement once its batch is confirmed; empty before (or if it has no movement). */
    public Optional<InclusionProof> proof(TransferId transferId) {
        try (Connection c = dataSource.getConnection()) {
            return proof(c, transferId);
        } catch (SQLException e) {
            throw new IllegalStateException("could not read the proof of " + transferId, e);
        }
    }

    /** As {@link #proof(TransferId)}, on the caller's connection (and snapshot). */
    public Optional<InclusionProof> proof(Connection c, TransferId transferId) throws SQLException {
        // a confirmed batch's movement rows are never reverted: the condition lets the claim index answer
        try (PreparedStatement s = c.prepareStatement("""
                SELECT b.row_id, b.batch_id, b.merkle_root
                FROM settlement_batch_movements m JOIN settlement_batches b ON b.row_id = m.batch_row_id
                WHERE m.transfer_id = ? AND NOT m.reverted AND b.state = 'CONFIRMED'""")) {
            s.setObject(1, TransferMapping.transferUuid(transferId));
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return batch(c, rs.getLong(1), rs.getLong(2), Bytes32.fromHex(rs.getString(3))).proof(transferId);
            }
        }
    }

    private NettedBatch batch(Connection c, long rowId, long batchId, Bytes32 root) throws SQLException {
        NettedBatch batch = confirmed.get(rowId);
        if (batch == null) {
            batch = BatchNetting.net(batchId, PostgresBatchStore.movements(c, rowId));
            if (!batch.merkleRoot().equals(root)) {
                throw new SettlementInconsistencyException("batch row " + rowId + " (batch " + batchId
                        + ") stores root " + root + " but its movements give " + batch.merkleRoot());
            }
            confirmed.put(rowId, batch);
        }
        return batch;
    }
}
