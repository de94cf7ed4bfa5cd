package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.indexer.VaultIndexer;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import dev.agentescrow.batcher.ledger.db.LedgerStore;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.db.BatchReads;
import dev.agentescrow.batcher.support.Addresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import javax.sql.DataSource;

/**
 * The ledger's read side: needs only a {@link DataSource} on the ledger's database, no writer, so
 * every instance of a service serves it (issue 11). A balance read and a history page are one
 * statement each (position and data in the statement's one snapshot: one round trip, no session
 * state set per read); the other reads run in one read-only REPEATABLE READ transaction set by its
 * first statement. Either way what a read returns is the state after some group commit, never a mix.
 *
 * <p><b>O(1) balances.</b> The ledger's checkpointer rewrites the rows of {@code accounts} touched
 * since its last checkpoint beside the writer, about every {@code LedgerConfig.checkpointEveryGroups}
 * groups (8) and whenever the writer is idle for 2 ms, with committed totals only, in one
 * transaction with {@code ledger_checkpoint.seq}, which says which
 * transfers they include: an account read is one lookup of the account's unique index plus the
 * user's open withdrawals (another index), whatever the number of accounts or transfers. It is the
 * exact state after transfer {@code ledger_checkpoint.seq}, never a mix (the withdrawals and holds
 * it shows are those open at that seq).
 *
 * <p><b>Positions.</b> Every write returns its {@code seq} ({@code TransferReceipt}); every read
 * reports the position it saw and takes an {@code atLeastSeq}: if the ledger has not reached it,
 * the read waits up to {@code wait} and then answers {@link Read.Status#NOT_YET}. Balances (and
 * holds, withdrawals, totals) are at the account rows' position ({@code ledger_checkpoint.seq});
 * transfers and history at the last committed transfer.
 */
public final class LedgerReads {
    /** The largest page of history, holds, withdrawals or batches. */
    public static final int MAX_PAGE = 1_000;
    /** The longest a read waits for a position. */
    public static final Duration MAX_WAIT = Duration.ofSeconds(30);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    static final String BALANCE_POSITION = "SELECT seq FROM ledger_checkpoint";
    static final String TRANSFER_POSITION = "SELECT coalesce(max(seq), 0) FROM transfers";
    static final String SETTLED_BATCHES = "SELECT coalesce((SELECT batch_id FROM settlement_batches"
            + " WHERE state = 'CONFIRMED' ORDER BY batch_id DESC LIMIT 1) - (SELECT batch_id FROM settlement_batches"
            + " WHERE state = 'CONFIRMED' ORDER BY batch_id LIMIT 1) + 1, 0)";
    private static final String CUSTODY_HOLD_COLUMNS =
            "kind, tx_hash, ordinal, incarnation, block_number, log_index, token, account, amount, state, updated_at";

    private static final String SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    private static final String ACCOUNT_COLUMNS = "a.id, a.kind, a.owner, a.token, a.debits_posted, a.credits_posted,"
            + " a.debits_pending, a.credits_pending, a.created_at, a.escrow_id,"
            + " (SELECT coalesce(sum(w.amount), 0) FROM pending_withdrawals w WHERE w.account_id = a.id"
            + " AND w.seq <= c.seq AND (w.paid_seq IS NULL OR w.paid_seq > c.seq))";
    private static final String USER_KEY = "a.kind = 'USER' AND a.owner = CAST(? AS CHAR(42)) AND a.token = CAST(? AS CHAR(42))";
    private static final String ESCROW_KEY = "a.kind = 'ESCROW_FUNDS' AND a.escrow_id = ? AND a.token = CAST(? AS CHAR(42))";
    private static final String OWNER_KEY = "a.kind = 'USER' AND a.owner = CAST(? AS CHAR(42))";
    /**
     * A user's balance read, one statement (one snapshot): the position and the account row (the
     * partial unique index {@code accounts_user_key (owner, token)}); no account gives one row
     * with a null id.
     */
    static final String USER_ACCOUNT = accountRead(USER_KEY);
    private static final String ESCROW_ACCOUNT = accountRead(ESCROW_KEY);
    private static final String KEY_COLUMNS = "%1$s.kind, %1$s.owner, %1$s.token, %1$s.escrow_id";
    private static final String TRANSFER_COLUMNS = "t.id, t.seq, t.kind, t.amount, t.pending_id, t.expires_at,"
            + " t.reference, t.created_at, " + KEY_COLUMNS.formatted("d") + ", " + KEY_COLUMNS.formatted("c");
    /** A transfer with its two account ids in place of their keys ({@link AccountKeys}). */
    private static final String HISTORY_COLUMNS = "t.id, t.seq, t.kind, t.amount, t.pending_id, t.expires_at,"
            + " t.reference, t.created_at, t.debit_account_id, t.credit_account_id";
    private static final String TRANSFER_JOINS = " JOIN accounts d ON d.id = t.debit_account_id"
            + " JOIN accounts c ON c.id = t.credit_account_id";
    /**
     * A history page, one statement (one snapshot): the position (the last committed transfer), the
     * number of accounts the key names, and the page: two index ranges per account (debits,
     * credits), merged newest first; an empty page gives one row with a null transfer. Each row
     * carries its two account ids, whose keys come from {@link AccountKeys} (an account's identity
     * never changes): joined in the statement, the two lookups per row and their eight text columns
     * were most of a page's cost (docs/ledger.md); before that, joined plainly, the planner hashed
     * the whole {@code accounts} table twice per page.
     */
    static final String USER_HISTORY = historyRead(USER_KEY);
    private static final String OWNER_HISTORY = historyRead(OWNER_KEY);
    private static final String ESCROW_HISTORY = historyRead(ESCROW_KEY);
    /** Columns before a history row's transfer: the position and the number of accounts. */
    private static final int HISTORY_PREFIX = 2;

    private final DataSource dataSource;
    private final BatchReads proofs;
    private final AccountKeys accountKeys = new AccountKeys();

    public LedgerReads(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.proofs = new BatchReads(dataSource);
    }

    private static String accountRead(String key) {
        return "SELECT c.seq, " + ACCOUNT_COLUMNS + " FROM ledger_checkpoint c LEFT JOIN accounts a ON " + key;
    }

    private static String historyRead(String key) {
        return "WITH p AS (SELECT coalesce(max(seq), 0) AS seq FROM transfers), k AS (SELECT a.id FROM accounts a WHERE " + key + ")"
                + " SELECT p.seq, (SELECT count(*) FROM k), " + HISTORY_COLUMNS + " FROM p LEFT JOIN (SELECT x.* FROM k,"
                + " LATERAL ((SELECT * FROM transfers h WHERE h.debit_account_id = k.id AND h.seq < ?"
                + " ORDER BY h.seq DESC LIMIT ?) UNION ALL (SELECT * FROM transfers h WHERE h.credit_account_id = k.id"
                + " AND h.seq < ? ORDER BY h.seq DESC LIMIT ?)) x ORDER BY x.seq DESC LIMIT ?) t ON true"
                + " ORDER BY t.seq DESC";
    }

    private static String keyPredicate(AccountKey key) {
        return switch (key.kind()) {
            case USER -> USER_KEY;
            case ESCROW_FUNDS -> ESCROW_KEY;
            default -> "a.kind = '" + key.kind().name() + "' AND a.token = CAST(? AS CHAR(42))";
        };
    }

    /** Binds {@code key}'s predicate ({@link #keyPredicate}) from parameter {@code from}; returns the next one. */
    private static int bindKey(PreparedStatement s, AccountKey key, int from) throws SQLException {
        int i = from;
        if (key.kind() == AccountKind.USER) {
            s.setString(i++, key.owner().hex());
        } else if (key.kind() == AccountKind.ESCROW_FUNDS) {
            s.setString(i++, key.escrowId());
        }
        s.setString(i++, key.token().hex());
        return i;
    }

    // ---------------------------------------------------------------- positions

    /** The position of the account rows: every transfer with a seq up to it is in every balance. */
    public long position() {
        return inStatement(c -> position(c, BALANCE_POSITION));
    }

    /**
     * The seq of the last committed transfer: a caller that holds no receipt and wants balances
     * that include everything committed so far reads with {@code atLeastSeq} = this.
     */
    public long lastCommittedSeq() {
        return inStatement(c -> position(c, TRANSFER_POSITION));
    }

    // ---------------------------------------------------------------- tokens

    /** The tokens the ledger accepts, ordered by address: one statement, on any instance (no writer). */
    public List<Token> tokens() {
        return inStatement(c -> {
            List<Token> tokens = new ArrayList<>(new LedgerStore().loadTokens(c));
            tokens.sort(Comparator.comparing(token -> token.address().hex()));
            return tokens;
        });
    }

    // ---------------------------------------------------------------- accounts

    /** One account's amounts now. */
    public Read<AccountView> account(AccountKey key) {
        return account(key, 0, Duration.ZERO);
    }

    /** One account's amounts once the ledger includes transfer {@code atLeastSeq} (waiting at most {@code wait}). */
    public Read<AccountView> account(AccountKey key, long atLeastSeq, Duration wait) {
        Objects.requireNonNull(key, "key");
        String sql = switch (key.kind()) {
            case USER -> USER_ACCOUNT;
            case ESCROW_FUNDS -> ESCROW_ACCOUNT;
            default -> accountRead(keyPredicate(key));
        };
        return readInStatement(atLeastSeq, wait, c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                bindKey(s, key, 1);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        throw new LedgerException("no ledger_checkpoint row");
                    }
                    long position = rs.getLong(1);
                    rs.getLong(2);
                    if (rs.wasNull()) {
                        return Read.notFound(position);
                    }
                    BigInteger debitsPosted = integer(rs, 6);
                    BigInteger creditsPosted = integer(rs, 7);
                    return Read.found(new AccountView(key, creditsPosted.subtract(debitsPosted), integer(rs, 8),
                            integer(rs, 9), integer(rs, 12)), position);
                }
            }
        });
    }

    // ---------------------------------------------------------------- transfers

    /** A transfer by id with its settlement state and, once settled, its inclusion proof. */
    public Read<TransferView> transfer(TransferId id) {
        return transfer(id, 0, Duration.ZERO);
    }

    public Read<TransferView> transfer(TransferId id, long atLeastSeq, Duration wait) {
        Objects.requireNonNull(id, "id");
        return read(atLeastSeq, wait, TRANSFER_POSITION, (c, position) -> {
            TransferRecord record;
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT " + TRANSFER_COLUMNS + " FROM transfers t" + TRANSFER_JOINS + " WHERE t.id = ?")) {
                s.setObject(1, id.toUuid());
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return Read.notFound(position);
                    }
                    record = transferRecord(rs);
                }
            }
            return Read.found(settlement(c, record), position);
        });
    }

    private TransferView settlement(Connection c, TransferRecord record) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                SELECT b.batch_id, b.state FROM settlement_batch_movements m
                JOIN settlement_batches b ON b.row_id = m.batch_row_id
                WHERE m.transfer_id = ? AND NOT m.reverted""")) {
            s.setObject(1, record.id().toUuid());
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    long batchId = rs.getLong(1);
                    if (BatchState.valueOf(rs.getString(2)) == BatchState.CONFIRMED) {
                        Optional<InclusionProof> proof = proofs.proof(c, TransferId.of(record.id().toUuid()));
                        return new TransferView(record, SettlementState.SETTLED, OptionalLong.of(batchId), proof);
                    }
                    return new TransferView(record, SettlementState.BATCHED, OptionalLong.of(batchId), Optional.empty());
                }
            }
        }
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM settlement_quarantine WHERE transfer_id = ?")) {
            s.setObject(1, record.id().toUuid());
            try (ResultSet rs = s.executeQuery()) {
                SettlementState state = rs.next() ? SettlementState.QUARANTINED : SettlementState.COMMITTED;
                return new TransferView(record, state, OptionalLong.empty(), Optional.empty());
            }
        }
    }

    /**
     * The settlement state of each of {@code ids} (a history page's transfers, at most
     * {@link #MAX_PAGE}) as {@link #transfer} tells it for one, without proofs: one statement
     * (one lookup of the movements' unique claim index and of the quarantine per id). Read after
     * the page, so a state may be newer than the page's position; states only move forward
     * (COMMITTED, BATCHED, SETTLED).
     */
    public Map<TransferId, SettlementStatus> settlementStates(List<TransferId> ids) {
        Objects.requireNonNull(ids, "ids");
        if (ids.size() > MAX_PAGE) {
            throw new IllegalArgumentException("at most " + MAX_PAGE + " ids: " + ids.size());
        }
        if (ids.isEmpty()) {
            return Map.of();
        }
        return inStatement(c -> {
            Map<TransferId, SettlementStatus> states = new HashMap<>();
            try (PreparedStatement s = c.prepareStatement("""
                    SELECT t.id, b.batch_id, b.state,
                           EXISTS (SELECT 1 FROM settlement_quarantine q WHERE q.transfer_id = t.id)
                    FROM unnest(?) AS t(id)
                    LEFT JOIN settlement_batch_movements m ON m.transfer_id = t.id AND NOT m.reverted
                    LEFT JOIN settlement_batches b ON b.row_id = m.batch_row_id""")) {
                s.setArray(1, c.createArrayOf("uuid", ids.stream().map(TransferId::toUuid).toArray()));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        TransferId id = TransferId.of(rs.getObject(1, UUID.class));
                        long batchId = rs.getLong(2);
                        SettlementStatus status;
                        if (!rs.wasNull()) {
                            status = new SettlementStatus(BatchState.valueOf(rs.getString(3)) == BatchState.CONFIRMED
                                    ? SettlementState.SETTLED : SettlementState.BATCHED, OptionalLong.of(batchId));
                        } else {
                            status = new SettlementStatus(rs.getBoolean(4) ? SettlementState.QUARANTINED
                                    : SettlementState.COMMITTED, OptionalLong.empty());
                        }
                        states.put(id, status);
                    }
                }
            }
            return states;
        });
    }

    // ---------------------------------------------------------------- history

    /**
     * A user's history (all its tokens, or one), newest first: at most {@code limit} transfers with
     * a seq below {@code beforeSeq} ({@link Long#MAX_VALUE} for the first page, then the page's
     * {@link HistoryPage#nextCursor()}).
     */
    public Read<HistoryPage> history(Address owner, Optional<Address> token, long beforeSeq, int limit,
                                     long atLeastSeq, Duration wait) {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(token, "token");
        return history(token.isPresent() ? USER_HISTORY : OWNER_HISTORY, s -> {
            s.setString(1, owner.hex());
            if (token.isPresent()) {
                s.setString(2, token.get().hex());
                return 3;
            }
            return 2;
        }, false, beforeSeq, limit, atLeastSeq, wait);
    }

    /** One account's history (any kind: a user's in one token, an escrow's, a system account's), newest first. */
    public Read<HistoryPage> history(AccountKey key, long beforeSeq, int limit, long atLeastSeq, Duration wait) {
        Objects.requireNonNull(key, "key");
        String sql = switch (key.kind()) {
            case USER -> USER_HISTORY;
            case ESCROW_FUNDS -> ESCROW_HISTORY;
            default -> historyRead(keyPredicate(key));
        };
        return history(sql, s -> bindKey(s, key, 1), true, beforeSeq, limit, atLeastSeq, wait);
    }

    @FunctionalInterface
    private interface Binder {
        /** Binds the key's parameters from 1 and returns the next parameter's index. */
        int bind(PreparedStatement s) throws SQLException;
    }

    private Read<HistoryPage> history(String sql, Binder key, boolean oneAccount, long beforeSeq, int limit,
                                          long atLeastSeq, Duration wait) {
        int n = page(limit);
        return readInStatement(atLeastSeq, wait, c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int i = key.bind(s);
                s.setLong(i++, beforeSeq);
                s.setInt(i++, n);
                s.setLong(i++, beforeSeq);
                s.setInt(i++, n);
                s.setInt(i, n);
                long position = 0;
                long accounts = 0;
                List<HistoryRow> rows = new ArrayList<>();
                List<Long> accountIds = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        position = rs.getLong(1);
                        accounts = rs.getLong(2);
                        if (rs.getObject(HISTORY_PREFIX + 1) != null) {
                            HistoryRow row = historyRow(rs, HISTORY_PREFIX);
                            rows.add(row);
                            accountIds.add(row.debitAccountId());
                            accountIds.add(row.creditAccountId());
                        }
                    }
                }
                // The keys of accounts this instance has not seen yet: one more statement, rarely.
                Map<Long, AccountKey> keys = accountKeys.keysOf(c, accountIds);
                List<TransferRecord> entries = new ArrayList<>(rows.size());
                for (HistoryRow row : rows) {
                    entries.add(row.record(keys.get(row.debitAccountId()), keys.get(row.creditAccountId())));
                }
                if (oneAccount && accounts == 0) {
                    return Read.notFound(position);
                }
                OptionalLong next = entries.size() == n ? OptionalLong.of(entries.getLast().seq()) : OptionalLong.empty();
                return Read.found(new HistoryPage(entries, next), position);
            }
        });
    }

    // ---------------------------------------------------------------- holds and withdrawals

    /** A user's open holds, outgoing and incoming (all its tokens, or one), oldest first, at most {@code limit}. */
    public Read<List<HoldView>> openHolds(Address owner, Optional<Address> token, int limit) {
        return openHolds(owner, token, limit, 0, Duration.ZERO);
    }

    /** As {@link #openHolds(Address, Optional, int)}, once the ledger includes transfer {@code atLeastSeq}. */
    public Read<List<HoldView>> openHolds(Address owner, Optional<Address> token, int limit, long atLeastSeq,
                                          Duration wait) {
        Objects.requireNonNull(owner, "owner");
        return read(atLeastSeq, wait, BALANCE_POSITION,
                (c, position) -> Read.found(holds(c, userAccountIds(c, owner, token), limit, position), position));
    }

    /** One account's open holds (an escrow's, say), oldest first, at most {@code limit}. */
    public Read<List<HoldView>> openHolds(AccountKey key, int limit) {
        return read(0, Duration.ZERO, BALANCE_POSITION, (c, position) -> {
            OptionalLong id = accountId(c, key);
            return id.isEmpty() ? Read.notFound(position)
                    : Read.found(holds(c, List.of(id.getAsLong()), limit, position), position);
        });
    }

    /** The holds open at {@code position} (booked at or before it, resolved after it or not at all). */
    private static List<HoldView> holds(Connection c, List<Long> accountIds, int limit, long position)
            throws SQLException {
        List<HoldView> out = new ArrayList<>();
        if (accountIds.isEmpty()) {
            return out;
        }
        try (PreparedStatement s = c.prepareStatement("SELECT h.pending_id, h.seq, h.amount, h.expires_at,"
                + " h.created_at, " + KEY_COLUMNS.formatted("d") + ", " + KEY_COLUMNS.formatted("c")
                + " FROM open_holds h JOIN accounts d ON d.id = h.debit_account_id"
                + " JOIN accounts c ON c.id = h.credit_account_id"
                + " WHERE (h.debit_account_id = ANY (?::bigint[]) OR h.credit_account_id = ANY (?::bigint[]))"
                + " AND h.seq <= ? AND (h.resolved_seq IS NULL OR h.resolved_seq > ?) ORDER BY h.seq LIMIT ?")) {
            s.setArray(1, c.createArrayOf("bigint", accountIds.toArray()));
            s.setArray(2, c.createArrayOf("bigint", accountIds.toArray()));
            s.setLong(3, position);
            s.setLong(4, position);
            s.setInt(5, page(limit));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new HoldView(TransferId.of(rs.getObject(1, UUID.class)), rs.getLong(2), key(rs, 6),
                            key(rs, 10), integer(rs, 3), rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant()));
                }
            }
        }
        return out;
    }

    /** A user's withdrawals not yet paid out (all its tokens, or one), oldest first, at most {@code limit}. */
    public Read<List<WithdrawalView>> pendingWithdrawals(Address owner, Optional<Address> token, int limit) {
        return pendingWithdrawals(owner, token, limit, 0, Duration.ZERO);
    }

    /** As {@link #pendingWithdrawals(Address, Optional, int)}, once the ledger includes transfer {@code atLeastSeq}. */
    public Read<List<WithdrawalView>> pendingWithdrawals(Address owner, Optional<Address> token, int limit,
                                                         long atLeastSeq, Duration wait) {
        Objects.requireNonNull(owner, "owner");
        return read(atLeastSeq, wait, BALANCE_POSITION, (c, position) -> {
            List<Long> ids = userAccountIds(c, owner, token);
            List<WithdrawalView> out = new ArrayList<>();
            if (ids.isEmpty()) {
                return Read.found(out, position);
            }
            try (PreparedStatement s = c.prepareStatement("""
                    SELECT w.transfer_id, w.seq, w.token, w.amount, w.created_at, b.state,
                           EXISTS (SELECT 1 FROM settlement_quarantine q WHERE q.transfer_id = w.transfer_id)
                    FROM pending_withdrawals w
                    LEFT JOIN settlement_batch_movements m ON m.transfer_id = w.transfer_id AND NOT m.reverted
                    LEFT JOIN settlement_batches b ON b.row_id = m.batch_row_id
                    WHERE w.account_id = ANY (?::bigint[]) AND w.seq <= ? AND (w.paid_seq IS NULL OR w.paid_seq > ?)
                    ORDER BY w.seq LIMIT ?""")) {
                s.setArray(1, c.createArrayOf("bigint", ids.toArray()));
                s.setLong(2, position);
                s.setLong(3, position);
                s.setInt(4, page(limit));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        String batchState = rs.getString(6);
                        SettlementState state = rs.getBoolean(7) ? SettlementState.QUARANTINED
                                : batchState == null ? SettlementState.COMMITTED
                                : batchState.equals("CONFIRMED") ? SettlementState.SETTLED : SettlementState.BATCHED;
                        out.add(new WithdrawalView(TransferId.of(rs.getObject(1, UUID.class)), rs.getLong(2), owner,
                                Address.of(rs.getString(3)), integer(rs, 4), rs.getTimestamp(5).toInstant(), state));
                    }
                }
            }
            return Read.found(out, position);
        });
    }

    // ---------------------------------------------------------------- batches

    /** A batch by id (its open or confirmed row; a refused id shows its last REVERTED row). */
    public Read<BatchView> batch(long batchId) {
        return read(0, Duration.ZERO, TRANSFER_POSITION, (c, position) -> {
            List<BatchView> found = batches(c, "WHERE b.batch_id = ?", batchId, 1);
            return found.isEmpty() ? Read.notFound(position) : Read.found(found.getFirst(), position);
        });
    }

    /** Batches newest first: at most {@code limit} with an id below {@code beforeBatchId} ({@link Long#MAX_VALUE} first). */
    public Read<List<BatchView>> batches(long beforeBatchId, int limit) {
        return read(0, Duration.ZERO, TRANSFER_POSITION,
                (c, position) -> Read.found(batches(c, "WHERE b.batch_id < ?", beforeBatchId, page(limit)), position));
    }

    private static List<BatchView> batches(Connection c, String where, long batchId, int limit) throws SQLException {
        List<BatchView> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT DISTINCT ON (b.batch_id) b.batch_id, b.state,"
                + " b.merkle_root, (SELECT count(*) FROM settlement_batch_movements m WHERE m.batch_row_id = b.row_id),"
                + " b.confirmed_tx_hash, b.confirmed_block, b.failure, b.created_at, b.updated_at, b.gas_used,"
                + " (SELECT count(*) FILTER (WHERE m.kind = 'TRANSFER') FROM settlement_batch_movements m"
                + " WHERE m.batch_row_id = b.row_id),"
                + " (SELECT count(*) FILTER (WHERE m.kind = 'WITHDRAWAL') FROM settlement_batch_movements m"
                + " WHERE m.batch_row_id = b.row_id),"
                + " (SELECT count(DISTINCT x.address) FROM settlement_batch_movements m,"
                + " LATERAL (VALUES (m.from_address), (m.to_address)) x(address) WHERE m.batch_row_id = b.row_id),"
                + " (SELECT coalesce(sum(m.amount), 0) FROM settlement_batch_movements m WHERE m.batch_row_id = b.row_id),"
                + " (SELECT t.tx_hash FROM settlement_transactions t WHERE t.batch_row_id = b.row_id"
                + " ORDER BY t.position DESC LIMIT 1)"
                + " FROM settlement_batches b " + where
                + " ORDER BY b.batch_id DESC, (b.state = 'REVERTED'), b.row_id DESC LIMIT ?")) {
            s.setLong(1, batchId);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long block = rs.getLong(6);
                    OptionalLong confirmedBlock = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(block);
                    long gas = rs.getLong(10);
                    OptionalLong gasUsed = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(gas);
                    out.add(new BatchView(rs.getLong(1), BatchState.valueOf(rs.getString(2)),
                            Bytes32.fromHex(rs.getString(3)), rs.getInt(4), Optional.ofNullable(rs.getString(5)),
                            confirmedBlock, Optional.ofNullable(rs.getString(7)), rs.getTimestamp(8).toInstant(),
                            rs.getTimestamp(9).toInstant(), gasUsed, rs.getInt(11), rs.getInt(12), rs.getInt(13),
                            integer(rs, 14), Optional.ofNullable(rs.getString(15))));
                }
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- custody bookings

    /**
     * {@code account}'s custody events of {@code kind} as the vault indexer booked them (every
     * incarnation, voided ones too), newest block first, at most {@code limit} bookings plus the
     * other bookings of their events; with the indexer's checkpoint, after which the chain may show
     * events not booked yet.
     */
    public Read<CustodyHolds> custodyHolds(Address account, CustodyEvent.Kind kind, int limit) {
        return custodyHolds(account, kind, Optional.empty(), limit);
    }

    /**
     * One page of {@code account}'s custody bookings of {@code kind}: at most {@code limit} bookings
     * whose key is below {@code before} (all when empty), newest first (block, log index, tx hash,
     * then incarnation), and every other booking of the same events wherever their keys lie (a
     * deposit voided in one block and mined again in another is read whole), with the indexer's
     * checkpoint; {@link CustodyHolds#cut()} is the last booking's key when {@code limit} were read.
     * One range of the index {@code indexer_custody_holds_account} and one look-up by the events'
     * transaction hashes, in one snapshot.
     */
    public Read<CustodyHolds> custodyHolds(Address account, CustodyEvent.Kind kind, Optional<CustodyHoldKey> before,
                                           int limit) {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(before, "before");
        int n = page(limit);
        return read(0, Duration.ZERO, TRANSFER_POSITION, (c, position) -> {
            List<CustodyHoldView> range = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement("SELECT " + CUSTODY_HOLD_COLUMNS
                    + " FROM indexer_custody_holds WHERE account = CAST(? AS CHAR(42)) AND stream = ? AND kind = ?"
                    + (before.isPresent()
                    ? " AND (block_number, log_index, tx_hash COLLATE \"C\") < (?, ?, CAST(? AS CHAR(66)) COLLATE \"C\")"
                    : "")
                    + " ORDER BY block_number DESC, log_index DESC, tx_hash COLLATE \"C\" DESC, incarnation DESC"
                    + " LIMIT ?")) {
                int p = 1;
                s.setString(p++, account.hex());
                s.setString(p++, VaultIndexer.STREAM);
                s.setString(p++, kind.name());
                if (before.isPresent()) {
                    s.setLong(p++, before.get().blockNumber());
                    s.setLong(p++, before.get().logIndex());
                    s.setString(p++, before.get().txHash().value());
                }
                s.setInt(p, n);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        range.add(custodyHold(rs));
                    }
                }
            }
            List<CustodyHoldView> holds = new ArrayList<>(range);
            if (!range.isEmpty()) {
                try (PreparedStatement s = c.prepareStatement("SELECT " + CUSTODY_HOLD_COLUMNS
                        + " FROM indexer_custody_holds WHERE stream = ? AND kind = ? AND tx_hash = ANY (?)"
                        + " AND account = CAST(? AS CHAR(42))")) {
                    s.setString(1, VaultIndexer.STREAM);
                    s.setString(2, kind.name());
                    s.setArray(3, c.createArrayOf("bpchar",
                            range.stream().map(h -> h.txHash().value()).distinct().toArray()));
                    s.setString(4, account.hex());
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            CustodyHoldView other = custodyHold(rs);
                            boolean sameEvent = range.stream().anyMatch(h -> h.txHash().equals(other.txHash())
                                    && h.ordinal() == other.ordinal());
                            boolean read = range.stream().anyMatch(h -> h.txHash().equals(other.txHash())
                                    && h.ordinal() == other.ordinal() && h.incarnation() == other.incarnation());
                            if (sameEvent && !read) {
                                holds.add(other);
                            }
                        }
                    }
                }
                holds.sort(Comparator.comparing(CustodyHoldKey::of).thenComparingInt(CustodyHoldView::incarnation)
                        .reversed());
            }
            OptionalLong checkpoint = OptionalLong.empty();
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT block_number FROM indexer_checkpoints WHERE stream = ?")) {
                s.setString(1, VaultIndexer.STREAM);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        checkpoint = OptionalLong.of(rs.getLong(1));
                    }
                }
            }
            Optional<CustodyHoldKey> cut = range.size() == n
                    ? Optional.of(CustodyHoldKey.of(range.getLast())) : Optional.empty();
            return Read.found(new CustodyHolds(holds, checkpoint, cut), position);
        });
    }

    private static CustodyHoldView custodyHold(ResultSet rs) throws SQLException {
        return new CustodyHoldView(CustodyEvent.Kind.valueOf(rs.getString(1)), new TxHash(rs.getString(2)),
                rs.getInt(3), rs.getInt(4), rs.getLong(5), rs.getLong(6), Address.of(rs.getString(7)),
                Address.of(rs.getString(8)), integer(rs, 9), CustodyHold.State.valueOf(rs.getString(10)),
                rs.getTimestamp(11).toInstant());
    }

    // ---------------------------------------------------------------- totals

    /** The service's totals for metrics: a few rows, never a scan of transfers. */
    public ServiceTotals totals() {
        return inSnapshot(c -> {
            Map<Address, Map<String, ServiceTotals.Count>> byToken = new HashMap<>();
            try (PreparedStatement s = c.prepareStatement("SELECT token, category, count, amount FROM ledger_totals");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    byToken.computeIfAbsent(Address.of(rs.getString(1)), k -> new HashMap<>())
                            .put(rs.getString(2), new ServiceTotals.Count(rs.getLong(3), integer(rs, 4)));
                }
            }
            // the vault settles batch ids in order, each exactly once (VaultBatchIdMismatch), so the
            // confirmed ones are consecutive: their count is the span of the confirmed index's ends,
            // two index probes however many batches there are
            long settled;
            try (PreparedStatement s = c.prepareStatement(SETTLED_BATCHES);
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                settled = rs.getLong(1);
            }
            Map<Address, ServiceTotals.TokenTotals> tokens = new HashMap<>();
            byToken.forEach((token, counts) -> tokens.put(token, new ServiceTotals.TokenTotals(
                    counts.getOrDefault("DEPOSIT", ServiceTotals.Count.ZERO),
                    counts.getOrDefault("WITHDRAWAL", ServiceTotals.Count.ZERO),
                    counts.getOrDefault("PAYOUT", ServiceTotals.Count.ZERO))));
            return new ServiceTotals(tokens, settled);
        });
    }

    // ---------------------------------------------------------------- helpers

    private static List<Long> userAccountIds(Connection c, Address owner, Optional<Address> token) throws SQLException {
        List<Long> ids = new ArrayList<>();
        String sql = "SELECT id FROM accounts WHERE kind = 'USER' AND owner = CAST(? AS CHAR(42))"
                + (token.isPresent() ? " AND token = CAST(? AS CHAR(42))" : "");
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, owner.hex());
            if (token.isPresent()) {
                s.setString(2, token.get().hex());
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        return ids;
    }

    private static OptionalLong accountId(Connection c, AccountKey key) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT a.id FROM accounts a WHERE " + keyPredicate(key))) {
            bindKey(s, key, 1);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
        }
    }

    private static int page(int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be in [1, " + MAX_PAGE + "]: " + limit);
        }
        return limit;
    }

    private static TransferRecord transferRecord(ResultSet rs) throws SQLException {
        return transferRecord(rs, 0);
    }

    /** A transfer from {@link #TRANSFER_COLUMNS} after {@code skip} other columns. */
    private static TransferRecord transferRecord(ResultSet rs, int skip) throws SQLException {
        UUID pending = rs.getObject(skip + 5, UUID.class);
        Timestamp expires = rs.getTimestamp(skip + 6);
        return new TransferRecord(TransferId.of(rs.getObject(skip + 1, UUID.class)), rs.getLong(skip + 2),
                TransferKind.valueOf(rs.getString(skip + 3)), key(rs, skip + 9), key(rs, skip + 13),
                integer(rs, skip + 4), pending == null ? null : TransferId.of(pending),
                expires == null ? null : expires.toInstant(), rs.getString(skip + 7),
                rs.getTimestamp(skip + 8).toInstant());
    }

    /** An account key from four columns (kind, owner, token, escrow_id) starting at {@code from}. */
    private static AccountKey key(ResultSet rs, int from) throws SQLException {
        return AccountKeys.key(rs.getString(from), rs.getString(from + 1), rs.getString(from + 2),
                rs.getString(from + 3));
    }

    /** A history row: a transfer from {@link #HISTORY_COLUMNS}, its accounts by id. */
    private record HistoryRow(TransferId id, long seq, TransferKind kind, BigInteger amount, TransferId pendingId,
                              Instant expiresAt, String reference, Instant createdAt, long debitAccountId,
                              long creditAccountId) {
        TransferRecord record(AccountKey debit, AccountKey credit) {
            return new TransferRecord(id, seq, kind, debit, credit, amount, pendingId, expiresAt, reference,
                    createdAt);
        }
    }

    /** A row of {@link #HISTORY_COLUMNS} after {@code skip} other columns. */
    private static HistoryRow historyRow(ResultSet rs, int skip) throws SQLException {
        UUID pending = rs.getObject(skip + 5, UUID.class);
        Timestamp expires = rs.getTimestamp(skip + 6);
        return new HistoryRow(TransferId.of(rs.getObject(skip + 1, UUID.class)), rs.getLong(skip + 2),
                TransferKind.valueOf(rs.getString(skip + 3)), integer(rs, skip + 4),
                pending == null ? null : TransferId.of(pending), expires == null ? null : expires.toInstant(),
                rs.getString(skip + 7), rs.getTimestamp(skip + 8).toInstant(), rs.getLong(skip + 9),
                rs.getLong(skip + 10));
    }

    private static BigInteger integer(ResultSet rs, int column) throws SQLException {
        return rs.getBigDecimal(column).toBigIntegerExact();
    }

    private static long position(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql); ResultSet rs = s.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    @FunctionalInterface
    private interface Query<T> {
        Read<T> run(Connection c, long position) throws SQLException;
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code query} in a snapshot whose position is at least {@code atLeastSeq}; until then
     * polls every 2 ms, and answers NOT_YET at the deadline.
     */
    private <T> Read<T> read(long atLeastSeq, Duration wait, String positionSql, Query<T> query) {
        return poll(atLeastSeq, wait, () -> inSnapshot(c -> {
            long position = position(c, positionSql);
            return position >= atLeastSeq ? query.run(c, position) : Read.<T>notYet(position);
        }));
    }

    /**
     * As {@link #read}, for a read that is one statement returning its own position: one round
     * trip, one snapshot (a statement's), no session state set or reset.
     */
    private <T> Read<T> readInStatement(long atLeastSeq, Duration wait, Work<Read<T>> statement) {
        return poll(atLeastSeq, wait, () -> {
            Read<T> answer = inStatement(statement);
            return answer.position() >= atLeastSeq ? answer : Read.<T>notYet(answer.position());
        });
    }

    private static <T> Read<T> poll(long atLeastSeq, Duration wait, Supplier<Read<T>> attempt) {
        Objects.requireNonNull(wait, "wait");
        if (wait.isNegative() || wait.compareTo(MAX_WAIT) > 0) {
            throw new IllegalArgumentException("wait must be in [0, " + MAX_WAIT + "]: " + wait);
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Read<T> answer = attempt.get();
            if (answer.status() != Read.Status.NOT_YET || System.nanoTime() - deadline >= 0) {
                return answer;
            }
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.currentThread().isInterrupted()) {
                return answer;
            }
        }
    }

    /**
     * Runs {@code work} (one statement) as its own transaction: on a pooled connection in
     * auto-commit (the pool's default) that is the statement alone, one round trip.
     */
    private <T> T inStatement(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            if (c.getAutoCommit()) {
                return work.run(c);
            }
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new LedgerException("could not read the ledger", e);
        }
    }

    /**
     * Runs {@code work} (several statements) in one read-only REPEATABLE READ transaction. The
     * transaction's mode is set by its first statement ({@code SET TRANSACTION}, sent with the
     * driver's {@code BEGIN}), so the session's defaults are never changed or reset.
     */
    private <T> T inSnapshot(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute(SNAPSHOT);
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new LedgerException("could not read the ledger", e);
        }
    }
}
