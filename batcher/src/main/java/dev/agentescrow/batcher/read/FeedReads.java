package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Feeds of facts that happened in the ledger and in settlement, for a consumer that walks them with
 * its own cursor (the service's event pollers): deposits the indexer credited, by ledger seq, and
 * confirmed batches with their movements, by batch id. Like {@link LedgerReads} it needs only a
 * {@link DataSource}, no writer, so every instance serves it; each read is one statement, so one
 * snapshot.
 */
public final class FeedReads {
    /** The most rows one call returns. */
    public static final int MAX_LIMIT = 10_000;

    static final String CREDITED_DEPOSITS = """
            SELECT t.id, t.seq, t.token, t.amount, c.owner, p.reference
            FROM transfers t
            JOIN accounts d ON d.id = t.debit_account_id AND d.kind = 'CUSTODY'
            JOIN accounts c ON c.id = t.credit_account_id AND c.kind = 'USER'
            LEFT JOIN transfers p ON p.id = t.pending_id
            WHERE t.seq > ? AND t.seq <= ? AND t.kind IN ('POST', 'SINGLE')
            ORDER BY t.seq LIMIT ?""";
    static final String CONFIRMED_BATCHES = """
            SELECT batch_id, row_id, confirmed_tx_hash, confirmed_block FROM settlement_batches
            WHERE state = 'CONFIRMED' AND batch_id > ? ORDER BY batch_id LIMIT ?""";
    static final String SETTLED_AFTER = """
            WITH b AS (SELECT batch_id, row_id FROM settlement_batches
                       WHERE state = 'CONFIRMED' AND batch_id > ? ORDER BY batch_id LIMIT ?)
            SELECT count(*), coalesce(max(batch_id), ?),
                   (SELECT coalesce(sum(m.amount), 0) FROM settlement_batch_movements m JOIN b ON m.batch_row_id = b.row_id)
            FROM b""";
    static final String MOVEMENTS = """
            SELECT m.transfer_id, m.kind, m.token, m.amount, d.owner, c.owner, m.from_address, m.to_address
            FROM settlement_batch_movements m
            LEFT JOIN transfers t ON t.id = m.transfer_id
            LEFT JOIN accounts d ON d.id = t.debit_account_id
            LEFT JOIN accounts c ON c.id = t.credit_account_id
            WHERE m.batch_row_id = ? AND NOT m.reverted ORDER BY m.position""";

    /**
     * A deposit the ledger credited: a transfer from the CUSTODY account to a user's account that
     * is posted, either the POST of a pending hold or a SINGLE. {@code onChain} is the deposit's log
     * when the hold's reference names it ({@code deposit:<txHash>:<logIndex>}).
     */
    public record DepositCredit(TransferId transferId, long seq, Address token, Address account, BigInteger amount,
                                Optional<OnChainDeposit> onChain) {
        public DepositCredit {
            Objects.requireNonNull(transferId, "transferId");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(account, "account");
            Objects.requireNonNull(amount, "amount");
            Objects.requireNonNull(onChain, "onChain");
        }
    }

    /** The vault's Deposit log a credit came from. */
    public record OnChainDeposit(String txHash, long logIndex) {
        public OnChainDeposit {
            Objects.requireNonNull(txHash, "txHash");
        }
    }

    /** A confirmed batch: its id, the stored row that was confirmed, the transaction and its block. */
    public record ConfirmedBatch(long batchId, long rowId, String txHash, long blockNumber) {
    }

    /**
     * One movement a batch carried (claims that were reverted left out): its transfer id, kind,
     * on-chain from and to, token and amount, and the owners of the ledger accounts the transfer
     * debited and credited (empty for a system account or an unknown transfer).
     */
    public record BatchMovement(TransferId transferId, Kind kind, Address from, Address to, Address token,
                                BigInteger amount, Optional<Address> debitOwner, Optional<Address> creditOwner) {
        public enum Kind { TRANSFER, WITHDRAWAL }

        public BatchMovement {
            Objects.requireNonNull(transferId, "transferId");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(amount, "amount");
            Objects.requireNonNull(debitOwner, "debitOwner");
            Objects.requireNonNull(creditOwner, "creditOwner");
        }
    }

    private final DataSource dataSource;

    public FeedReads(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** The seq of the last committed transfer (0 for an empty ledger). */
    public long lastSeq() {
        return query(LedgerReads.TRANSFER_POSITION, s -> { }, rs -> rs.getLong(1)).getFirst();
    }

    /**
     * The credited deposits with a seq in ({@code afterSeq}, {@code upToSeq}], in seq order, at most
     * {@code limit}.
     */
    public List<DepositCredit> creditedDepositsAfter(long afterSeq, long upToSeq, int limit) {
        requireLimit(limit);
        return query(CREDITED_DEPOSITS, s -> {
            s.setLong(1, afterSeq);
            s.setLong(2, upToSeq);
            s.setInt(3, limit);
        }, rs -> new DepositCredit(TransferId.of(rs.getObject(1, UUID.class)), rs.getLong(2),
                Address.of(rs.getString(3)), Address.of(rs.getString(5)), rs.getBigDecimal(4).toBigIntegerExact(),
                onChain(rs.getString(6))));
    }

    /** The confirmed batches with an id above {@code afterBatchId}, in id order, at most {@code limit}. */
    public List<ConfirmedBatch> confirmedBatchesAfter(long afterBatchId, int limit) {
        requireLimit(limit);
        return query(CONFIRMED_BATCHES, s -> {
            s.setLong(1, afterBatchId);
            s.setInt(2, limit);
        }, rs -> new ConfirmedBatch(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4)));
    }

    /**
     * The first {@code limit} confirmed batches with an id above {@code afterBatchId}, summed: how
     * many, the last one's id ({@code afterBatchId} if none) and their movements' amounts (every
     * movement of the confirmed row, any token: a {@code BatchView}'s moved amount). One statement;
     * a consumer that keeps the last id reads each batch once (batch ids confirm in order).
     */
    public SettledBatches settledAfter(long afterBatchId, int limit) {
        requireLimit(limit);
        return query(SETTLED_AFTER, s -> {
            s.setLong(1, afterBatchId);
            s.setInt(2, limit);
            s.setLong(3, afterBatchId);
        }, rs -> new SettledBatches(rs.getLong(1), rs.getLong(2), rs.getBigDecimal(3).toBigIntegerExact())).getFirst();
    }

    /** Confirmed batches summed ({@link #settledAfter}). */
    public record SettledBatches(long count, long lastBatchId, BigInteger movedAmount) {
        public SettledBatches {
            Objects.requireNonNull(movedAmount, "movedAmount");
        }
    }

    /** The movements {@code batch} carried, in leaf order. */
    public List<BatchMovement> movementsOf(ConfirmedBatch batch) {
        Objects.requireNonNull(batch, "batch");
        return query(MOVEMENTS, s -> s.setLong(1, batch.rowId()), rs -> new BatchMovement(
                TransferId.of(rs.getObject(1, UUID.class)), BatchMovement.Kind.valueOf(rs.getString(2).trim()),
                Address.of(rs.getString(7)), Address.of(rs.getString(8)), Address.of(rs.getString(3)),
                rs.getBigDecimal(4).toBigIntegerExact(), owner(rs.getString(5)), owner(rs.getString(6))));
    }

    private static Optional<OnChainDeposit> onChain(String reference) {
        String[] parts = reference == null ? new String[0] : reference.split(":");
        if (parts.length == 3 && "deposit".equals(parts[0])) {
            return Optional.of(new OnChainDeposit(parts[1], Long.parseLong(parts[2])));
        }
        return Optional.empty();
    }

    private static Optional<Address> owner(String owner) {
        return owner == null ? Optional.empty() : Optional.of(Address.of(owner));
    }

    private static void requireLimit(int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT + ": " + limit);
        }
    }

    private interface Binder {
        void bind(PreparedStatement statement) throws SQLException;
    }

    private interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private <T> List<T> query(String sql, Binder binder, Row<T> row) {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            binder.bind(s);
            List<T> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(row.map(rs));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new LedgerException("could not read the ledger's feed", e);
        }
    }
}
