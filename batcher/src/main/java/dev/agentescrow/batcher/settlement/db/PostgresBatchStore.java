package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.BatchStore;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.NettedBatch;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementInconsistencyException;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;

/**
 * {@link BatchStore} on {@code settlement_batches}, {@code settlement_batch_movements} and
 * {@code settlement_transactions} (migration V2). A batch row's movements are its claims: a
 * movement row that is not {@code reverted} claims its transfer, and the unique index
 * {@code settlement_batch_movements_one_claim} admits one such row per transfer, so the database
 * itself refuses a transfer in two batches (F2). Every method is one database transaction; every
 * one that changes a batch commits only while the {@link WriteFence} passes.
 */
public final class PostgresBatchStore implements BatchStore {
    private static final String OPEN = "state IN ('BUILT', 'SUBMITTED')";
    private static final String BATCH_COLUMNS = "b.row_id, b.batch_id, b.state, b.merkle_root, b.search_from_block, "
            + "b.confirmed_tx_hash, b.confirmed_block, b.gas_used, b.failure";
    /** A bound on memory: a batch of 16,384 movements is a few MB in memory. */
    static final int CACHED_BATCHES = 32;

    private final Clock clock;
    private final SettlementTransactions transactions;
    private final BatchReads proofs;
    /** Rebuilt batches (for proofs and open rows), least recently used dropped beyond {@link #CACHED_BATCHES}. */
    private final Map<Long, NettedBatch> batchesByRow = Collections.synchronizedMap(
            new LinkedHashMap<Long, NettedBatch>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, NettedBatch> eldest) {
                    return size() > CACHED_BATCHES;
                }
            });

    public PostgresBatchStore(DataSource dataSource, Clock clock, WriteFence fence) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.transactions = new SettlementTransactions(dataSource, fence);
        this.proofs = new BatchReads(dataSource);
    }

    @Override
    public void saveBuilt(SettlementBatchRecord record, List<TransferId> movementIds) {
        if (record.state() != BatchState.BUILT) {
            throw new IllegalStateException("not a built batch: " + record);
        }
        transactions.write("save built batch " + record.batchId(), c -> {
            PostgresClaimsStore.lockWatermark(c);
            try (PreparedStatement s = c.prepareStatement("SELECT " + BATCH_COLUMNS
                    + " FROM settlement_batches b WHERE b." + OPEN)) {
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        throw new IllegalStateException("a batch is already open: " + record(c, rs));
                    }
                }
            }
            Instant now = clock.instant();
            long rowId;
            try (PreparedStatement s = c.prepareStatement("""
                    INSERT INTO settlement_batches (batch_id, state, merkle_root, search_from_block, created_at, updated_at)
                    VALUES (?, 'BUILT', ?, ?, ?, ?) RETURNING row_id""")) {
                s.setLong(1, record.batchId());
                s.setString(2, record.batch().merkleRoot().hex());
                s.setLong(3, record.searchFromBlock());
                s.setTimestamp(4, Timestamp.from(now));
                s.setTimestamp(5, Timestamp.from(now));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    rowId = rs.getLong(1);
                }
            }
            List<UUID> ids = movementIds.stream().map(TransferMapping::transferUuid).toList();
            Set<UUID> named = new HashSet<>(ids);
            if (named.size() != ids.size()) {
                throw new IllegalStateException("batch " + record.batchId() + " claims a movement twice");
            }
            Set<UUID> inBatch = new HashSet<>();
            record.batch().movements().forEach(m -> inBatch.add(TransferMapping.transferUuid(m.transferId())));
            if (!inBatch.equals(named)) {
                throw new IllegalStateException("batch " + record.batchId() + " claims other movements than it holds");
            }
            // the movement rows are the claims: the unique index refuses a transfer another batch
            // claims, and only transfers in the ledger that the quarantine does not hold are inserted
            int waiting = insertMovements(c, rowId, record.batch().movements());
            if (waiting != ids.size()) {
                throw new IllegalStateException("batch " + record.batchId() + " claims " + ids.size()
                        + " movements but only " + waiting + " are waiting for settlement");
            }
            batchesByRow.put(rowId, record.batch());
            return null;
        });
    }

    /**
     * Inserts the movement rows (the claims) of those movements that are ledger transfers the
     * quarantine does not hold, in one statement, and returns how many: the columns travel as
     * arrays and PostgreSQL unnests them, one round trip for a batch of 16,384 movements instead
     * of a check and one statement execution per movement.
     */
    private static int insertMovements(Connection c, long rowId, List<SettlementMovement> movements)
            throws SQLException {
        int n = movements.size();
        Object[] ids = new Object[n];
        String[] kinds = new String[n];
        String[] tokens = new String[n];
        String[] froms = new String[n];
        String[] tos = new String[n];
        BigDecimal[] amounts = new BigDecimal[n];
        for (int i = 0; i < n; i++) {
            SettlementMovement movement = movements.get(i);
            ids[i] = TransferMapping.transferUuid(movement.transferId());
            kinds[i] = movement instanceof SettlementMovement.Withdrawal ? "WITHDRAWAL" : "TRANSFER";
            tokens[i] = movement.token().hex();
            froms[i] = movement.leaf().from().hex();
            tos[i] = movement.leaf().to().hex();
            amounts[i] = new BigDecimal(movement.amount().baseUnits());
        }
        try (PreparedStatement s = c.prepareStatement("""
                INSERT INTO settlement_batch_movements
                    (batch_row_id, position, transfer_id, kind, token, from_address, to_address, amount)
                SELECT ?, m.ord - 1, m.transfer_id, m.kind, m.token, m.from_address, m.to_address, m.amount
                FROM unnest(?::uuid[], ?::varchar[], ?::varchar[], ?::varchar[], ?::varchar[], ?::numeric[])
                    WITH ORDINALITY AS m(transfer_id, kind, token, from_address, to_address, amount, ord)
                WHERE EXISTS (SELECT 1 FROM transfers t WHERE t.id = m.transfer_id)
                  AND NOT EXISTS (SELECT 1 FROM settlement_quarantine q WHERE q.transfer_id = m.transfer_id)""")) {
            s.setLong(1, rowId);
            s.setArray(2, c.createArrayOf("uuid", ids));
            s.setArray(3, c.createArrayOf("varchar", kinds));
            s.setArray(4, c.createArrayOf("varchar", tokens));
            s.setArray(5, c.createArrayOf("varchar", froms));
            s.setArray(6, c.createArrayOf("varchar", tos));
            s.setArray(7, c.createArrayOf("numeric", amounts));
            return s.executeUpdate();
        }
    }

    @Override
    public SettlementBatchRecord markSubmitted(long batchId, PreparedTransaction transaction, long signedAtBlock) {
        return transition(batchId, record -> record.withSubmitted(transaction, signedAtBlock));
    }

    @Override
    public SettlementBatchRecord markConfirmed(long batchId, MinedReceipt receipt) {
        return transition(batchId, record -> record.withConfirmed(receipt));
    }

    @Override
    public SettlementBatchRecord markReverted(long batchId, String reason) {
        return refuse(batchId, reason, Map.of());
    }

    /**
     * One transaction (F2): quarantines {@code culprits}, releases the batch's other movements,
     * drops the row's claims ({@code settlement_batch_movements.reverted}) and marks it REVERTED. A
     * crash leaves either all of it or none, never an open row whose movements were released.
     */
    @Override
    public SettlementBatchRecord refuse(long batchId, String reason, Map<TransferId, String> culprits) {
        return transition(batchId, record -> record.withReverted(reason), (c, rowId) -> {
            for (Map.Entry<TransferId, String> culprit : culprits.entrySet()) {
                PostgresClaimsStore.insertQuarantine(c, TransferMapping.transferUuid(culprit.getKey()),
                        culprit.getValue(), clock.instant());
            }
            PostgresClaimsStore.releaseClaims(c, batchId);
        });
    }

    /**
     * Whether the open row of {@code batchId} holds the claim of every movement it names: none of
     * its movement rows is reverted and each names a ledger transfer. Checked before signing (F2).
     */
    @Override
    public boolean holdsClaims(long batchId) {
        return transactions.read("check the claims of batch " + batchId, c -> {
            try (PreparedStatement s = c.prepareStatement("""
                    SELECT count(*) FILTER (WHERE m.reverted OR t.id IS NULL), count(*)
                    FROM settlement_batches b
                    JOIN settlement_batch_movements m ON m.batch_row_id = b.row_id
                    LEFT JOIN transfers t ON t.id = m.transfer_id
                    WHERE b.batch_id = ? AND b.""" + OPEN)) {
                s.setLong(1, batchId);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1) == 0 && rs.getLong(2) > 0;
                }
            }
        });
    }

    private interface RowWork {
        void run(Connection c, long rowId) throws SQLException;
    }

    private SettlementBatchRecord transition(long batchId, UnaryOperator<SettlementBatchRecord> change) {
        return transition(batchId, change, (c, rowId) -> { });
    }

    /** Applies the record's guarded transition to the open row of {@code batchId} and stores it, guarded by its state. */
    private SettlementBatchRecord transition(long batchId, UnaryOperator<SettlementBatchRecord> change, RowWork also) {
        return transactions.write("update batch " + batchId, c -> {
            long rowId;
            SettlementBatchRecord current;
            try (PreparedStatement s = c.prepareStatement("SELECT " + BATCH_COLUMNS
                    + " FROM settlement_batches b WHERE b.batch_id = ? AND b." + OPEN + " FOR UPDATE")) {
                s.setLong(1, batchId);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("no open batch " + batchId);
                    }
                    rowId = rs.getLong(1);
                    current = record(c, rs);
                }
            }
            SettlementBatchRecord next = change.apply(current);
            also.run(c, rowId);
            MinedReceipt receipt = next.confirmation().orElse(null);
            try (PreparedStatement s = c.prepareStatement("""
                    UPDATE settlement_batches SET state = ?, confirmed_tx_hash = ?, confirmed_block = ?, gas_used = ?,
                        failure = ?, updated_at = ?
                    WHERE row_id = ? AND state = ?""")) {
                s.setString(1, next.state().name());
                s.setString(2, receipt == null ? null : receipt.txHash().value());
                s.setObject(3, receipt == null ? null : receipt.blockNumber());
                s.setObject(4, receipt == null ? null : receipt.gasUsed());
                s.setString(5, next.failure().orElse(null));
                s.setTimestamp(6, Timestamp.from(clock.instant()));
                s.setLong(7, rowId);
                s.setString(8, current.state().name());
                if (s.executeUpdate() != 1) {
                    throw new IllegalStateException("batch " + batchId + " left state " + current.state()
                            + " concurrently");
                }
            }
            if (next.transactions().size() > current.transactions().size()) {
                PreparedTransaction tx = next.transactions().getLast();
                try (PreparedStatement s = c.prepareStatement("""
                        INSERT INTO settlement_transactions
                            (batch_row_id, position, tx_hash, nonce, raw_tx, from_address, to_address, signed_at,
                             signed_block)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
                    s.setLong(1, rowId);
                    s.setInt(2, next.transactions().size() - 1);
                    s.setString(3, tx.txHash().value());
                    s.setLong(4, tx.nonce());
                    s.setString(5, tx.rawTransactionHex());
                    s.setString(6, tx.from().hex());
                    s.setString(7, tx.to().hex());
                    s.setTimestamp(8, Timestamp.from(clock.instant()));
                    s.setLong(9, next.currentSignedAtBlock().orElseThrow());
                    s.executeUpdate();
                }
            }
            return next;
        });
    }

    @Override
    public List<SettlementBatchRecord> openBatches() {
        return records("WHERE b." + OPEN + " ORDER BY b.batch_id, b.row_id");
    }

    /** Every batch row, open and final, in the order they were built. */
    public List<SettlementBatchRecord> batches() {
        return records("ORDER BY b.row_id");
    }

    private List<SettlementBatchRecord> records(String where) {
        return transactions.read("read batches", c -> {
            List<SettlementBatchRecord> out = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + BATCH_COLUMNS + " FROM settlement_batches b " + where);
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(record(c, rs));
                }
            }
            return out;
        });
    }

    @Override
    public long lastBatchId() {
        return transactions.read("read the last batch id", c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT coalesce(max(batch_id), 0) FROM settlement_batches WHERE state = 'CONFIRMED'");
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Served by {@link BatchReads}, which needs only the database (any instance can serve proofs). */
    @Override
    public Optional<InclusionProof> proof(TransferId transferId) {
        return proofs.proof(transferId);
    }

    // ------------------------------------------------------------------ loading

    /** Rebuilds the record of the current row of {@code rs} (columns {@link #BATCH_COLUMNS}) through its transitions. */
    private SettlementBatchRecord record(Connection c, ResultSet rs) throws SQLException {
        long rowId = rs.getLong(1);
        long batchId = rs.getLong(2);
        BatchState state = BatchState.valueOf(rs.getString(3));
        Bytes32 root = Bytes32.fromHex(rs.getString(4));
        NettedBatch batch = batchesByRow.get(rowId);
        if (batch == null) {
            batch = BatchNetting.net(batchId, movements(c, rowId));
            if (!batch.merkleRoot().equals(root)) {
                throw new SettlementInconsistencyException("batch row " + rowId + " (batch " + batchId
                        + ") stores root " + root + " but its movements give " + batch.merkleRoot());
            }
            batchesByRow.put(rowId, batch);
        }
        long searchFromBlock = rs.getLong(5);
        SettlementBatchRecord record = SettlementBatchRecord.built(batch, searchFromBlock);
        for (StoredTransaction stored : transactions(c, rowId)) {
            // rows signed before V10_3 have no signing block: the block the batch was built in is no later
            record = record.withSubmitted(stored.transaction(), stored.signedAtBlock().orElse(searchFromBlock));
        }
        return switch (state) {
            case BUILT, SUBMITTED -> record;
            case CONFIRMED -> record.withConfirmed(new MinedReceipt(new TxHash(rs.getString(6)),
                    MinedReceipt.Status.SUCCEEDED, rs.getLong(7), rs.getLong(8)));
            case REVERTED -> record.withReverted(rs.getString(9));
        };
    }

    static List<SettlementMovement> movements(Connection c, long rowId) throws SQLException {
        List<SettlementMovement> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("""
                SELECT transfer_id, kind, token, from_address, to_address, amount
                FROM settlement_batch_movements WHERE batch_row_id = ? ORDER BY position""")) {
            s.setLong(1, rowId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    TransferId id = TransferMapping.movementId(rs.getObject(1, UUID.class));
                    Address token = Address.of(rs.getString(3));
                    Address from = Address.of(rs.getString(4));
                    Address to = Address.of(rs.getString(5));
                    Amount amount = Amount.of(rs.getBigDecimal(6).toBigIntegerExact());
                    out.add(rs.getString(2).equals("WITHDRAWAL")
                            ? new SettlementMovement.Withdrawal(id, token, from, to, amount)
                            : new SettlementMovement.Transfer(id, token, from, to, amount));
                }
            }
        }
        return out;
    }

    private record StoredTransaction(PreparedTransaction transaction, OptionalLong signedAtBlock) {
    }

    private static List<StoredTransaction> transactions(Connection c, long rowId) throws SQLException {
        List<StoredTransaction> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("""
                SELECT tx_hash, nonce, raw_tx, from_address, to_address, signed_block
                FROM settlement_transactions WHERE batch_row_id = ? ORDER BY position""")) {
            s.setLong(1, rowId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    PreparedTransaction transaction = new PreparedTransaction(new TxHash(rs.getString(1)),
                            rs.getLong(2), rs.getString(3), Address.of(rs.getString(4)), Address.of(rs.getString(5)));
                    long block = rs.getLong(6);
                    out.add(new StoredTransaction(transaction, rs.wasNull() ? OptionalLong.empty()
                            : OptionalLong.of(block)));
                }
            }
        }
        return out;
    }

}
