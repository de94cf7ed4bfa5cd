package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.merkle.SettlementTransferId;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.BatchStore;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.NettedBatch;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementInconsistencyException;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.SettlementSource;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * {@link BatchStore} and {@link SettlementSource} on the ledger's own tables (migration V2): the
 * committed transfers are the movements, {@code transfers.batch_id} is the claim, and the batch rows
 * with their movements and signed transactions live in {@code settlement_batches},
 * {@code settlement_batch_movements} and {@code settlement_transactions}. Every method is one
 * database transaction, except {@link #settled}, whose payout transfers go through the ledger's
 * single writer with ids derived from the batch, so that a repeat is the ledger's idempotent
 * {@code EXISTS}. See docs/settlement.md ("PostgreSQL store") for how ledger transfers map to movements.
 * Every transaction that changes settlement state checks the {@link WriteFence} (a batcher's
 * leadership epoch) just before it commits, so a deposed leader never changes a batch.
 */
public final class PostgresSettlementStore implements BatchStore, SettlementSource {
    /** {@code transfers.batch_id} of a transfer that has no on-chain movement. */
    public static final long NO_MOVEMENT = 0;
    /** {@code transfers.batch_id} of a quarantined transfer. */
    public static final long QUARANTINED = -1;

    private static final int SCAN_ROWS = 1_000;
    private static final String OPEN = "state IN ('BUILT', 'SUBMITTED')";
    private static final String BATCH_COLUMNS = "b.row_id, b.batch_id, b.state, b.merkle_root, b.search_from_block, "
            + "b.confirmed_tx_hash, b.confirmed_block, b.gas_used, b.failure";
    /** Transfers that never move money on chain: holds and their cancellations, and everything with CUSTODY. */
    private static final String SWEEP = """
            UPDATE transfers t SET batch_id = 0
            FROM accounts d, accounts c
            WHERE t.batch_id IS NULL AND d.id = t.debit_account_id AND c.id = t.credit_account_id
              AND (t.kind IN ('PENDING', 'VOID', 'EXPIRE') OR d.kind = 'CUSTODY' OR c.kind = 'CUSTODY')""";

    private final DataSource dataSource;
    private final Ledger ledger;
    private final SettlementAddresses addresses;
    private final Clock clock;
    private final WriteFence fence;
    private final BatchReads proofs;
    /** Rebuilt batches (for proofs and open rows), least recently used dropped beyond {@link #CACHED_BATCHES}. */
    private final Map<Long, NettedBatch> batchesByRow = java.util.Collections.synchronizedMap(
            new LinkedHashMap<Long, NettedBatch>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, NettedBatch> eldest) {
                    return size() > CACHED_BATCHES;
                }
            });
    /** A bound on memory (issue 10): a batch of 1,600 movements is a few hundred kB in memory. */
    static final int CACHED_BATCHES = 32;

    public PostgresSettlementStore(DataSource dataSource, Ledger ledger, SettlementAddresses addresses, Clock clock) {
        this(dataSource, ledger, addresses, clock, WriteFence.NONE);
    }

    /** A store whose state changes commit only while {@code fence} passes (a leader's epoch). */
    public PostgresSettlementStore(DataSource dataSource, Ledger ledger, SettlementAddresses addresses, Clock clock,
                                   WriteFence fence) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.addresses = Objects.requireNonNull(addresses, "addresses");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.fence = Objects.requireNonNull(fence, "fence");
        this.proofs = new BatchReads(dataSource);
    }

    /**
     * The ledger transfer id of the payout of a withdrawal: a reserved id holding the withdrawal
     * transfer's sequence number (F1: no client can take it, and two withdrawals never share one).
     * A withdrawal settles in one batch only, so its payout is booked once, whichever batch pays it.
     */
    public static TransferId payoutTransferId(long withdrawalSeq) {
        return TransferId.reserved(TransferId.Domain.PAYOUT, withdrawalSeq);
    }

    static SettlementTransferId movementId(UUID transferId) {
        return SettlementTransferId.of(transferId);
    }

    static UUID transferUuid(SettlementTransferId id) {
        return TransferId.of(id.value()).toUuid();
    }

    // ------------------------------------------------------------------ SettlementSource

    @Override
    public List<SettlementMovement> unsettled(int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return inWriteTransaction("read unsettled movements", c -> {
            sweep(c);
            List<SettlementMovement> movements = new ArrayList<>();
            long afterSeq = Long.MIN_VALUE;
            boolean more = true;
            while (more && movements.size() < limit) {
                List<UUID> noMovement = new ArrayList<>();
                Map<UUID, String> unmappable = new LinkedHashMap<>();
                int scanned = 0;
                try (PreparedStatement s = c.prepareStatement("""
                        SELECT t.id, t.seq, t.kind, t.token, t.amount, d.kind, d.owner, c.kind, c.owner
                        FROM transfers t
                        JOIN accounts d ON d.id = t.debit_account_id
                        JOIN accounts c ON c.id = t.credit_account_id
                        WHERE t.batch_id IS NULL AND t.seq > ? ORDER BY t.seq LIMIT ?""")) {
                    s.setLong(1, afterSeq);
                    s.setInt(2, SCAN_ROWS);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next() && movements.size() < limit) {
                            scanned++;
                            afterSeq = rs.getLong(2);
                            UUID id = rs.getObject(1, UUID.class);
                            switch (classify(rs)) {
                                case Mapped mapped -> movements.add(mapped.movement());
                                case NoMovement none -> noMovement.add(id);
                                case Unmappable bad -> unmappable.put(id, bad.reason());
                            }
                        }
                    }
                }
                more = scanned == SCAN_ROWS;
                setBatchId(c, noMovement, NO_MOVEMENT);
                for (var entry : unmappable.entrySet()) {
                    quarantine(c, entry.getKey(), entry.getValue());
                }
            }
            return List.copyOf(movements);
        });
    }

    @Override
    public UnsettledBacklog backlog() {
        return inWriteTransaction("read the settlement backlog", c -> {
            sweep(c);
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT count(*), min(created_at) FROM transfers WHERE batch_id IS NULL");
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                int count = rs.getInt(1);
                return count == 0 ? UnsettledBacklog.EMPTY
                        : UnsettledBacklog.of(count, rs.getTimestamp(2).toInstant());
            }
        });
    }

    @Override
    public void release(long batchId) {
        inWriteTransaction("release batch " + batchId, c -> {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT 1 FROM settlement_batches WHERE batch_id = ? AND state = 'CONFIRMED'")) {
                s.setLong(1, batchId);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        throw new IllegalStateException("batch " + batchId + " is confirmed; its movements stay settled");
                    }
                }
            }
            releaseClaims(c, batchId);
            return null;
        });
    }

    private static void releaseClaims(Connection c, long batchId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                UPDATE transfers SET batch_id = CASE WHEN EXISTS
                    (SELECT 1 FROM settlement_quarantine q WHERE q.transfer_id = transfers.id) THEN -1 ELSE NULL END
                WHERE batch_id = ?""")) {
            s.setLong(1, batchId);
            s.executeUpdate();
        }
    }

    @Override
    public void settled(long batchId) {
        Map<SettlementTransferId, Long> seqs = new LinkedHashMap<>();
        List<SettlementMovement> withdrawals = inTransaction("read the withdrawals of batch " + batchId, c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT " + BATCH_COLUMNS
                    + " FROM settlement_batches b WHERE b.batch_id = ? AND b.state <> 'REVERTED'")) {
                s.setLong(1, batchId);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("no open or confirmed batch " + batchId + " to settle");
                    }
                    List<SettlementMovement> found = record(c, rs).batch().movements().stream()
                            .filter(m -> m instanceof SettlementMovement.Withdrawal).toList();
                    seqs.putAll(sequenceNumbers(c, found));
                    return found;
                }
            }
        });
        List<TransferRequest> payouts = withdrawals.stream()
                .map(w -> TransferRequest.single(payoutTransferId(seqs.get(w.transferId())),
                                AccountKey.payouts(w.token()), AccountKey.custody(w.token()), w.amount())
                        .withReference("payout:" + batchId + ":" + w.transferId()))
                .toList();
        int chunk = ledger.config().maxSubmissionSize();
        for (int from = 0; from < payouts.size(); from += chunk) {
            List<TransferRequest> part = payouts.subList(from, Math.min(payouts.size(), from + chunk));
            List<TransferResult> results = ledger.submitSystem(part);
            for (int i = 0; i < results.size(); i++) {
                if (!results.get(i).committed()) {
                    throw new SettlementInconsistencyException("the ledger refused payout " + part.get(i).id()
                            + " of batch " + batchId + ": " + results.get(i));
                }
            }
        }
    }

    private static Map<SettlementTransferId, Long> sequenceNumbers(Connection c, List<SettlementMovement> movements)
            throws SQLException {
        Map<SettlementTransferId, Long> seqs = new LinkedHashMap<>();
        if (movements.isEmpty()) {
            return seqs;
        }
        try (PreparedStatement s = c.prepareStatement("SELECT id, seq FROM transfers WHERE id = ANY (?)")) {
            s.setArray(1, c.createArrayOf("uuid", movements.stream().map(m -> transferUuid(m.transferId())).toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    seqs.put(movementId(rs.getObject(1, UUID.class)), rs.getLong(2));
                }
            }
        }
        for (SettlementMovement m : movements) {
            if (!seqs.containsKey(m.transferId())) {
                throw new SettlementInconsistencyException("withdrawal " + m.transferId() + " is not in the ledger");
            }
        }
        return seqs;
    }

    @Override
    public void quarantine(SettlementTransferId transferId, String reason) {
        inWriteTransaction("quarantine " + transferId, c -> {
            quarantine(c, transferUuid(transferId), reason);
            return null;
        });
    }

    /** Every quarantined movement with its reason, for a person to resolve. */
    public Map<SettlementTransferId, String> quarantined() {
        return inTransaction("read the quarantine", c -> {
            Map<SettlementTransferId, String> out = new LinkedHashMap<>();
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT transfer_id, reason FROM settlement_quarantine ORDER BY quarantined_at, transfer_id");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.put(movementId(rs.getObject(1, UUID.class)), rs.getString(2));
                }
            }
            return out;
        });
    }

    private void quarantine(Connection c, UUID id, String reason) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                INSERT INTO settlement_quarantine (transfer_id, reason, quarantined_at) VALUES (?, ?, ?)
                ON CONFLICT (transfer_id) DO NOTHING""")) {
            s.setObject(1, id);
            s.setString(2, reason);
            s.setTimestamp(3, Timestamp.from(clock.instant()));
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE transfers SET batch_id = -1 WHERE id = ? AND batch_id IS NULL")) {
            s.setObject(1, id);
            s.executeUpdate();
        }
    }

    private static void sweep(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(SWEEP)) {
            s.executeUpdate();
        }
    }

    private static int setBatchId(Connection c, List<UUID> ids, long batchId) throws SQLException {
        if (ids.isEmpty()) {
            return 0;
        }
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE transfers SET batch_id = ? WHERE id = ANY (?) AND batch_id IS NULL")) {
            s.setLong(1, batchId);
            s.setArray(2, c.createArrayOf("uuid", ids.toArray()));
            return s.executeUpdate();
        }
    }

    // ------------------------------------------------------------------ mapping

    private sealed interface Mapping permits Mapped, NoMovement, Unmappable {
    }

    private record Mapped(SettlementMovement movement) implements Mapping {
    }

    private record NoMovement() implements Mapping {
    }

    private record Unmappable(String reason) implements Mapping {
    }

    /**
     * Maps one committed transfer (columns: id, seq, kind, token, amount, debit kind, debit owner,
     * credit kind, credit owner); never throws for the row's content (F4): anything that cannot
     * become a movement (a zero address, an unknown kind, a malformed value) is {@link Unmappable}
     * and is quarantined and counted instead of failing every tick.
     */
    private Mapping classify(ResultSet rs) throws SQLException {
        try {
            return classifyRow(rs);
        } catch (SQLException e) {
            throw e;
        } catch (RuntimeException e) {
            return new Unmappable("cannot be mapped to a movement: " + e.getMessage());
        }
    }

    private Mapping classifyRow(ResultSet rs) throws SQLException {
        String kind = rs.getString(3);
        AccountKind debit = AccountKind.valueOf(rs.getString(6));
        AccountKind credit = AccountKind.valueOf(rs.getString(8));
        if (!kind.equals("SINGLE") && !kind.equals("POST")
                || debit == AccountKind.CUSTODY || credit == AccountKind.CUSTODY) {
            return new NoMovement();
        }
        if (debit == AccountKind.PAYOUTS) {
            return new Unmappable("a transfer out of PAYOUTS to " + credit + " has no on-chain movement");
        }
        BigInteger amount = rs.getBigDecimal(5).toBigIntegerExact();
        if (amount.compareTo(SettlementBatch.MAX_ENTRY_AMOUNT) > 0) {
            return new Unmappable("amount " + amount + " exceeds the vault's entry width 2^128 - 1");
        }
        SettlementTransferId id = movementId(rs.getObject(1, UUID.class));
        Address token = Address.of(rs.getString(4));
        Address from = onChain(debit, rs.getString(7));
        if (credit == AccountKind.PAYOUTS) {
            if (Address.ZERO.equals(from) || Address.ZERO.equals(token)) {
                return new Unmappable("the zero address cannot withdraw");
            }
            return new Mapped(new SettlementMovement.Withdrawal(id, token, from, from, Amount.of(amount)));
        }
        Address to = onChain(credit, rs.getString(9));
        if (Address.ZERO.equals(from) || Address.ZERO.equals(to) || Address.ZERO.equals(token)) {
            return new Unmappable("the zero address cannot hold a settled balance");
        }
        if (from.equals(to)) {
            return new NoMovement();
        }
        return new Mapped(new SettlementMovement.Transfer(id, token, from, to, Amount.of(amount)));
    }

    private Address onChain(AccountKind kind, String owner) {
        return switch (kind) {
            case USER -> Address.of(owner);
            case FEES -> addresses.feeCollector();
            case ESCROW, ESCROW_FUNDS -> addresses.escrowHolder();
            case CUSTODY, PAYOUTS -> throw new IllegalArgumentException(kind + " has no on-chain address");
        };
    }

    // ------------------------------------------------------------------ BatchStore

    @Override
    public void saveBuilt(SettlementBatchRecord record, List<SettlementTransferId> movementIds) {
        if (record.state() != BatchState.BUILT) {
            throw new IllegalStateException("not a built batch: " + record);
        }
        inWriteTransaction("save built batch " + record.batchId(), c -> {
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
            insertMovements(c, rowId, record.batch().movements());
            List<UUID> ids = movementIds.stream().map(PostgresSettlementStore::transferUuid).toList();
            if (new HashSet<>(ids).size() != ids.size()) {
                throw new IllegalStateException("batch " + record.batchId() + " claims a movement twice");
            }
            int claimed = setBatchId(c, ids, record.batchId());
            if (claimed != ids.size()) {
                throw new IllegalStateException("batch " + record.batchId() + " claims " + ids.size()
                        + " movements but only " + claimed + " are waiting for settlement");
            }
            batchesByRow.put(rowId, record.batch());
            return null;
        });
    }

    private static void insertMovements(Connection c, long rowId, List<SettlementMovement> movements)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                INSERT INTO settlement_batch_movements
                    (batch_row_id, position, transfer_id, kind, token, from_address, to_address, amount)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)""")) {
            for (int i = 0; i < movements.size(); i++) {
                SettlementMovement movement = movements.get(i);
                s.setLong(1, rowId);
                s.setInt(2, i);
                s.setObject(3, transferUuid(movement.transferId()));
                s.setString(4, movement instanceof SettlementMovement.Withdrawal ? "WITHDRAWAL" : "TRANSFER");
                s.setString(5, movement.token().hex());
                s.setString(6, movement.leaf().from().hex());
                s.setString(7, movement.leaf().to().hex());
                s.setBigDecimal(8, new BigDecimal(movement.amount().baseUnits()));
                s.addBatch();
            }
            s.executeBatch();
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
    public SettlementBatchRecord refuse(long batchId, String reason, Map<SettlementTransferId, String> culprits) {
        return transition(batchId, record -> record.withReverted(reason), (c, rowId) -> {
            for (Map.Entry<SettlementTransferId, String> culprit : culprits.entrySet()) {
                try (PreparedStatement s = c.prepareStatement("""
                        INSERT INTO settlement_quarantine (transfer_id, reason, quarantined_at) VALUES (?, ?, ?)
                        ON CONFLICT (transfer_id) DO NOTHING""")) {
                    s.setObject(1, transferUuid(culprit.getKey()));
                    s.setString(2, culprit.getValue());
                    s.setTimestamp(3, Timestamp.from(clock.instant()));
                    s.executeUpdate();
                }
            }
            releaseClaims(c, batchId);
            try (PreparedStatement s = c.prepareStatement(
                    "UPDATE settlement_batch_movements SET reverted = TRUE WHERE batch_row_id = ?")) {
                s.setLong(1, rowId);
                s.executeUpdate();
            }
        });
    }

    /**
     * Whether the open row of {@code batchId} holds the claim of every movement it names: each
     * transfer's {@code batch_id} is this batch. Checked before signing (F2).
     */
    @Override
    public boolean holdsClaims(long batchId) {
        return inTransaction("check the claims of batch " + batchId, c -> {
            try (PreparedStatement s = c.prepareStatement("""
                    SELECT count(*) FILTER (WHERE t.batch_id IS DISTINCT FROM b.batch_id), count(*)
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
        return inWriteTransaction("update batch " + batchId, c -> {
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
        return inTransaction("read batches", c -> {
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
        return inTransaction("read the last batch id", c -> {
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
    public Optional<InclusionProof> proof(SettlementTransferId transferId) {
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
                    SettlementTransferId id = movementId(rs.getObject(1, UUID.class));
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

    private record StoredTransaction(PreparedTransaction transaction, java.util.OptionalLong signedAtBlock) {
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
                    out.add(new StoredTransaction(transaction, rs.wasNull() ? java.util.OptionalLong.empty()
                            : java.util.OptionalLong.of(block)));
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ transactions

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T inTransaction(String what, Work<T> work) {
        return inTransaction(what, work, false);
    }

    /** A transaction that changes settlement state: it commits only if the fence passes just before. */
    private <T> T inWriteTransaction(String what, Work<T> work) {
        return inTransaction(what, work, true);
    }

    private <T> T inTransaction(String what, Work<T> work, boolean write) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                if (write) {
                    fence.check(c);
                }
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not " + what, e);
        }
    }
}
