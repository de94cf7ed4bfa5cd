package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.SettlementInconsistencyException;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.SettlementSource;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * {@link SettlementSource} on the ledger's tables, which it never writes: a transfer is claimed by
 * a batch when a row of {@code settlement_batch_movements} names it and is not reverted (the
 * unique index {@code settlement_batch_movements_one_claim} admits one such row per transfer),
 * quarantined when {@code settlement_quarantine} holds it, and what it is for settlement
 * (movement, none, unmappable) is {@link TransferMapping}'s answer. The watermark
 * {@code settlement_watermark.seq} keeps the reads short: every transfer at or below it is final
 * for settlement (no movement, quarantined, or claimed by a CONFIRMED batch), so a read starts
 * after it and moves it over every final transfer it meets before the first one that is not.
 * A claim by an open batch is never final, so a refused batch's movements, released, are always
 * above the watermark.
 */
public final class PostgresClaimsStore implements SettlementSource {
    /** Rows one statement of a scan reads at most. */
    private static final int SCAN_ROWS = 4_096;
    /**
     * Rows {@link #backlog()} reads at most: its count is exact up to this many transfers waiting
     * after the watermark and a lower bound beyond (the trigger only asks whether N are waiting), so
     * the tick's read costs the same with 100,000 transfers waiting as with 20,000.
     */
    static final int BACKLOG_EXACT_ROWS = 16_384;
    private static final String CLAIMED = "EXISTS (SELECT 1 FROM settlement_batch_movements m WHERE m.transfer_id = t.id"
            + " AND NOT m.reverted)";
    private static final String QUARANTINED = "EXISTS (SELECT 1 FROM settlement_quarantine q"
            + " WHERE q.transfer_id = t.id)";
    /**
     * The transfers after a position that no batch claims and the quarantine does not hold, in
     * commit order: the anti-joins run in PostgreSQL (an index probe per row on the claims' and the
     * quarantine's unique indexes), so the rows a confirmed batch claims are passed over there,
     * never sent to Java. Columns: {@link TransferMapping#COLUMNS}, then the commit time.
     */
    private static final String SCAN = "SELECT " + TransferMapping.COLUMNS + ", t.created_at FROM transfers t"
            + " JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id"
            + " WHERE t.seq > ? AND NOT " + CLAIMED + " AND NOT " + QUARANTINED + " ORDER BY t.seq LIMIT ?";
    /**
     * The first transfer an open batch claims: not final, so the watermark stays below it. Its
     * claims are after the watermark (the watermark never passes a transfer that is not final).
     */
    private static final String FIRST_OPEN_CLAIM = """
            SELECT min(t.seq) FROM settlement_batches b
            JOIN settlement_batch_movements m ON m.batch_row_id = b.row_id AND NOT m.reverted
            JOIN transfers t ON t.id = m.transfer_id
            WHERE b.state IN ('BUILT', 'SUBMITTED')""";

    private final Ledger ledger;
    private final TransferMapping mapping;
    private final Clock clock;
    private final SettlementTransactions transactions;

    public PostgresClaimsStore(DataSource dataSource, Ledger ledger, SettlementAddresses addresses, Clock clock,
                               WriteFence fence) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.mapping = new TransferMapping(addresses);
        this.clock = Objects.requireNonNull(clock, "clock");
        this.transactions = new SettlementTransactions(dataSource, fence);
    }

    @Override
    public List<SettlementMovement> unsettled(int limit) {
        if (limit <= 0) {
            return List.of();
        }
        return transactions.write("read unsettled movements", c -> scan(c, limit, Integer.MAX_VALUE, true).movements());
    }

    /** One scan: up to {@code limit} movements and the backlog they start (exact up to {@code limit}). */
    @Override
    public Waiting waiting(int limit) {
        if (limit <= 0) {
            return new Waiting(List.of(), backlog(1));
        }
        return transactions.write("read waiting movements", c -> {
            Scan scan = scan(c, limit, Integer.MAX_VALUE, true);
            return new Waiting(scan.movements(), scan.pending() == 0 ? UnsettledBacklog.EMPTY
                    : UnsettledBacklog.of((int) Math.min(Integer.MAX_VALUE, scan.pending()), scan.oldest()));
        });
    }

    /**
     * How many movements wait and the oldest one's commit time; bounded: the count is exact up to
     * {@value #BACKLOG_EXACT_ROWS} transfers read after the watermark and a lower bound beyond.
     */
    @Override
    public UnsettledBacklog backlog() {
        return backlog(BACKLOG_EXACT_ROWS);
    }

    /** Stops counting at {@code enough} movements (the trigger's N); never reads more than {@value #BACKLOG_EXACT_ROWS} rows. */
    @Override
    public UnsettledBacklog backlog(int enough) {
        return transactions.write("read the settlement backlog", c -> {
            Scan scan = scan(c, Math.max(1, Math.min(enough, BACKLOG_EXACT_ROWS)), BACKLOG_EXACT_ROWS, false);
            long count = scan.pending();
            return count == 0 ? UnsettledBacklog.EMPTY
                    : UnsettledBacklog.of((int) Math.min(Integer.MAX_VALUE, count), scan.oldest());
        });
    }

    /**
     * What a read found after the watermark: up to the limit the movements no batch claims, in
     * commit order; how many there are among the rows read, and the oldest one's commit time.
     */
    private record Scan(List<SettlementMovement> movements, long pending, Instant oldest) {
    }

    /**
     * Reads the transfers after the watermark that no batch claims and the quarantine does not
     * hold, in commit order, at most {@code maxRows}, until {@code limit} movements are found
     * (collected when {@code collect}); quarantines the rows {@link TransferMapping} cannot map, and
     * moves the watermark up to the first transfer that is not final: the first movement found, or
     * the first transfer an open batch claims, or else the last row read (the last transfer
     * committed before the last statement, when that statement read to the end). Everything
     * between is final: claimed by a confirmed batch (passed over by the statement), quarantined,
     * or no movement.
     */
    private Scan scan(Connection c, int limit, int maxRows, boolean collect) throws SQLException {
        long watermark = watermark(c);
        long afterSeq = watermark;
        long firstPending = Long.MAX_VALUE;
        List<SettlementMovement> movements = new ArrayList<>();
        long pending = 0;
        Instant oldest = null;
        int rows = 0;
        // the end of what the last statement could see: rows up to it that it did not return are
        // claimed or quarantined (the one writer commits seq in order, so a row up to the largest
        // seq committed before the statement is visible to it)
        long readTo = watermark;
        while (pending < limit && rows < maxRows) {
            // a small limit (the trigger's N) reads about as many rows, not a whole statement's worth
            int ask = (int) Math.min(Math.min(SCAN_ROWS, maxRows - rows), Math.max(limit - pending, 0) + 64);
            int scanned = 0;
            Map<UUID, String> unmappable = new LinkedHashMap<>();
            long visibleEnd = lastCommittedSeq(c);
            try (PreparedStatement s = c.prepareStatement(SCAN)) {
                s.setLong(1, afterSeq);
                s.setInt(2, ask);
                try (ResultSet rs = s.executeQuery()) {
                    while (pending < limit && rs.next()) {
                        scanned++;
                        afterSeq = rs.getLong(2);
                        switch (mapping.map(rs)) {
                            case TransferMapping.NoMovement none -> { }
                            case TransferMapping.Unmappable bad -> unmappable.put(rs.getObject(1, UUID.class),
                                    bad.reason());
                            case TransferMapping.Mapped mapped -> {
                                pending++;
                                if (oldest == null) {
                                    oldest = rs.getTimestamp(10).toInstant();
                                    firstPending = afterSeq;
                                }
                                if (collect) {
                                    movements.add(mapped.movement());
                                }
                            }
                        }
                    }
                }
            }
            for (Map.Entry<UUID, String> entry : unmappable.entrySet()) {
                insertQuarantine(c, entry.getKey(), entry.getValue(), clock.instant());
            }
            rows += scanned;
            readTo = afterSeq;
            if (scanned < ask) {
                if (pending < limit) {
                    // read to the end: what follows the last row returned, up to the visible end, is final
                    readTo = Math.max(afterSeq, visibleEnd);
                }
                break;
            }
        }
        long finalUpTo = Math.min(readTo, firstPending - 1);
        if (finalUpTo > watermark) {
            moveWatermark(c, Math.min(finalUpTo, firstOpenClaim(c) - 1));
        }
        return new Scan(List.copyOf(movements), pending, oldest);
    }

    private static long lastCommittedSeq(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT coalesce(max(seq), 0) FROM transfers");
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The seq of the first transfer an open batch claims, {@link Long#MAX_VALUE} with no open batch. */
    private static long firstOpenClaim(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(FIRST_OPEN_CLAIM); ResultSet rs = s.executeQuery()) {
            rs.next();
            long seq = rs.getLong(1);
            return rs.wasNull() ? Long.MAX_VALUE : seq;
        }
    }

    private static long watermark(Connection c) throws SQLException {
        return lockWatermark(c);
    }

    /**
     * Locks the watermark row until the transaction ends and returns its seq. A scan holds it
     * while it reads and moves the watermark; every change of a claim (a batch built, a batch's
     * claims released) takes it first, so no claim changes between a scan's statements and the
     * watermark never passes a transfer that a concurrent release made waiting again.
     */
    static long lockWatermark(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT seq FROM settlement_watermark FOR UPDATE");
             ResultSet rs = s.executeQuery()) {
            if (!rs.next()) {
                throw new IllegalStateException("settlement_watermark has no row (migration V11_7)");
            }
            return rs.getLong(1);
        }
    }

    private void moveWatermark(Connection c, long seq) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE settlement_watermark SET seq = ?, updated_at = ? WHERE seq < ?")) {
            s.setLong(1, seq);
            s.setTimestamp(2, Timestamp.from(clock.instant()));
            s.setLong(3, seq);
            s.executeUpdate();
        }
    }

    /**
     * The open batch {@code batchId}'s claims are dropped: its movements wait for settlement again
     * (a quarantined one stays out). Throws if the batch is confirmed.
     */
    @Override
    public void release(long batchId) {
        transactions.write("release batch " + batchId, c -> {
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

    /** Drops the claims of the open row of {@code batchId}; the one place a claim ends. */
    static void releaseClaims(Connection c, long batchId) throws SQLException {
        lockWatermark(c);
        try (PreparedStatement s = c.prepareStatement("""
                UPDATE settlement_batch_movements m SET reverted = TRUE
                FROM settlement_batches b
                WHERE b.row_id = m.batch_row_id AND b.batch_id = ? AND b.state IN ('BUILT', 'SUBMITTED')
                  AND NOT m.reverted""")) {
            s.setLong(1, batchId);
            s.executeUpdate();
        }
    }

    @Override
    public void settled(long batchId) {
        List<Payout> payouts = transactions.read("read the withdrawals of batch " + batchId, c -> withdrawals(c, batchId));
        List<TransferRequest> requests = payouts.stream()
                .map(w -> TransferRequest.single(TransferMapping.payoutTransferId(w.seq()),
                                AccountKey.payouts(w.token()), AccountKey.custody(w.token()), w.amount())
                        .withReference("payout:" + batchId + ":" + w.transferId()))
                .toList();
        int chunk = ledger.config().maxSubmissionSize();
        for (int from = 0; from < requests.size(); from += chunk) {
            List<TransferRequest> part = requests.subList(from, Math.min(requests.size(), from + chunk));
            List<TransferResult> results = ledger.submitSystem(part);
            for (int i = 0; i < results.size(); i++) {
                if (!results.get(i).committed()) {
                    throw new SettlementInconsistencyException("the ledger refused payout " + part.get(i).id()
                            + " of batch " + batchId + ": " + results.get(i));
                }
            }
        }
    }

    private record Payout(TransferId transferId, long seq, Address token, Amount amount) {
    }

    private static List<Payout> withdrawals(Connection c, long batchId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT 1 FROM settlement_batches WHERE batch_id = ? AND state <> 'REVERTED'")) {
            s.setLong(1, batchId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("no open or confirmed batch " + batchId + " to settle");
                }
            }
        }
        List<Payout> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("""
                SELECT m.transfer_id, t.seq, m.token, m.amount
                FROM settlement_batches b
                JOIN settlement_batch_movements m ON m.batch_row_id = b.row_id
                LEFT JOIN transfers t ON t.id = m.transfer_id
                WHERE b.batch_id = ? AND b.state <> 'REVERTED' AND m.kind = 'WITHDRAWAL'
                ORDER BY m.position""")) {
            s.setLong(1, batchId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    TransferId id = TransferMapping.movementId(rs.getObject(1, UUID.class));
                    long seq = rs.getLong(2);
                    if (rs.wasNull()) {
                        throw new SettlementInconsistencyException("withdrawal " + id + " is not in the ledger");
                    }
                    out.add(new Payout(id, seq, Address.of(rs.getString(3)),
                            Amount.of(rs.getBigDecimal(4).toBigIntegerExact())));
                }
            }
        }
        return out;
    }

    @Override
    public void quarantine(TransferId transferId, String reason) {
        transactions.write("quarantine " + transferId, c -> {
            insertQuarantine(c, TransferMapping.transferUuid(transferId), reason, clock.instant());
            return null;
        });
    }

    /** Every quarantined movement with its reason, for a person to resolve. */
    public Map<TransferId, String> quarantined() {
        return transactions.read("read the quarantine", c -> {
            Map<TransferId, String> out = new LinkedHashMap<>();
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT transfer_id, reason FROM settlement_quarantine ORDER BY quarantined_at, transfer_id");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.put(TransferMapping.movementId(rs.getObject(1, UUID.class)), rs.getString(2));
                }
            }
            return out;
        });
    }

    /** Takes a transfer out of settlement for good; the one place a quarantine begins. */
    static void insertQuarantine(Connection c, UUID transferId, String reason, Instant at) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                INSERT INTO settlement_quarantine (transfer_id, reason, quarantined_at) VALUES (?, ?, ?)
                ON CONFLICT (transfer_id) DO NOTHING""")) {
            s.setObject(1, transferId);
            s.setString(2, reason);
            s.setTimestamp(3, Timestamp.from(at));
            s.executeUpdate();
        }
    }
}
