package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's SQL. Every write of a group is set-based: one {@code unnest} INSERT for all its
 * transfers and one {@code unnest} UPDATE for all touched balances, whatever the group size.
 * Methods never commit; the writer owns the transaction.
 */
public final class LedgerStore {
    private static final Logger LOG = LoggerFactory.getLogger(LedgerStore.class);
    private static final String ACCOUNT_COLUMNS =
            "id, kind, owner, token, debits_posted, credits_posted, debits_pending, credits_pending, created_at, escrow_id";
    private static final String TRANSFER_COLUMNS = "id, seq, kind, debit_account_id, credit_account_id, token, amount,"
            + " pending_id, timeout_seconds, expires_at, link_group, reference, created_at";
    /** The columns a plain payment fills (the rest default to null). */
    private static final String NARROW_TRANSFER_COLUMNS =
            "id, seq, kind, debit_account_id, credit_account_id, token, amount, created_at";

    /** Takes the session-level advisory lock that makes this connection the ledger's only writer. */
    public boolean tryLock(Connection c, long key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    public List<Token> loadTokens(Connection c) throws SQLException {
        List<Token> tokens = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT address, symbol, decimals FROM tokens");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                tokens.add(new Token(Address.of(rs.getString(1)), rs.getString(2), rs.getInt(3)));
            }
        }
        return tokens;
    }

    /** Every account with its exact committed totals (checkpoint plus later transfers). */
    public List<LoadedAccount> loadAccounts(Connection c) throws SQLException {
        List<LoadedAccount> accounts = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + ACCOUNT_COLUMNS + ", after_checkpoint FROM account_balances ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                accounts.add(new LoadedAccount(account(rs), rs.getBoolean(11)));
            }
        }
        return accounts;
    }

    /** Pending transfers not yet posted, voided or expired. */
    public List<TransferRow> loadOpenPendings(Connection c) throws SQLException {
        List<TransferRow> open = new ArrayList<>();
        String sql = "SELECT " + prefixed("p") + " FROM transfers p WHERE p.kind = 'PENDING'"
                + " AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = p.id)";
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                open.add(transfer(rs));
            }
        }
        return open;
    }

    public long maxSeq(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(seq), 0) FROM transfers");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Committed transfers with any of these ids, each with the amount of the pending one it resolves. */
    public Map<TransferId, ExistingTransfer> findTransfers(Connection c, Collection<TransferId> ids)
            throws SQLException {
        Map<TransferId, ExistingTransfer> found = new HashMap<>();
        if (ids.isEmpty()) {
            return found;
        }
        String sql = "SELECT " + prefixed("t") + ", p.amount FROM transfers t"
                + " LEFT JOIN transfers p ON p.id = t.pending_id WHERE t.id = ANY(?::uuid[])";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, uuids(c, ids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TransferRow row = transfer(rs);
                    BigDecimal pendingAmount = rs.getBigDecimal(14);
                    found.put(row.id(), new ExistingTransfer(row,
                            pendingAmount == null ? null : pendingAmount.toBigIntegerExact()));
                }
            }
        }
        return found;
    }

    /** For each of these pending ids that was resolved: the kind of its resolution. */
    public Map<TransferId, TransferKind> findResolutions(Connection c, Collection<TransferId> pendingIds)
            throws SQLException {
        Map<TransferId, TransferKind> found = new HashMap<>();
        if (pendingIds.isEmpty()) {
            return found;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pending_id, kind FROM transfers WHERE pending_id = ANY(?::uuid[])")) {
            ps.setArray(1, uuids(c, pendingIds));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(TransferId.of(rs.getObject(1, UUID.class)), TransferKind.valueOf(rs.getString(2)));
                }
            }
        }
        return found;
    }

    /** Writes one group; the caller commits. Account totals are not in it: see {@link #writeCheckpoint}. */
    public void write(Connection c, GroupWrite group) throws SQLException {
        insertTokens(c, group.newTokens(), group.at());
        insertAccounts(c, group.newAccounts());
        long t0 = System.nanoTime();
        insertTransfers(c, group.transfers());
        long t1 = System.nanoTime();
        if (LOG.isDebugEnabled()) {
            LOG.debug("insert {} transfers {} us", group.transfers().size(), (t1 - t0) / 1_000);
        }
        insertAudit(c, group.audit());
        insertWithdrawals(c, group.newWithdrawals());
        markWithdrawalsPaid(c, group.paidWithdrawals());
        addTotals(c, group.totals());
        insertHolds(c, group.newHolds());
        markHoldsResolved(c, group.resolvedHolds());
    }

    /**
     * Writes a checkpoint: the committed totals of {@code accounts}, exact after transfer
     * {@code seq}, and that seq ({@code ledger_checkpoint}, which never goes back); deletes the
     * withdrawals and holds closed at or before it. The caller commits.
     */
    public void writeCheckpoint(Connection c, Collection<AccountRow> accounts, long seq, Instant at)
            throws SQLException {
        long t0 = System.nanoTime();
        updateBalances(c, List.copyOf(accounts));
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE ledger_checkpoint SET seq = greatest(seq, ?), updated_at = ?")) {
            ps.setLong(1, seq);
            ps.setTimestamp(2, Timestamp.from(at));
            expectRows(ps.executeUpdate(), 1, "checkpoint updated");
        }
        deleteClosed(c, seq);
        if (LOG.isDebugEnabled()) {
            LOG.debug("checkpoint of {} accounts at seq {}: {} us", accounts.size(), seq,
                    (System.nanoTime() - t0) / 1_000);
        }
    }

    private void insertHolds(Connection c, List<TransferRow> holds) throws SQLException {
        if (holds.isEmpty()) {
            return;
        }
        int n = holds.size();
        UUID[] ids = new UUID[n];
        Long[] seqs = new Long[n];
        Long[] debits = new Long[n];
        Long[] credits = new Long[n];
        String[] tokens = new String[n];
        String[] amounts = new String[n];
        String[] expires = new String[n];
        String[] created = new String[n];
        for (int i = 0; i < n; i++) {
            TransferRow h = holds.get(i);
            ids[i] = h.id().toUuid();
            seqs[i] = h.seq();
            debits[i] = h.debitAccountId();
            credits[i] = h.creditAccountId();
            tokens[i] = h.token().hex();
            amounts[i] = h.amount().toString();
            expires[i] = h.expiresAt().toString();
            created[i] = h.createdAt().toString();
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO open_holds (pending_id, seq, debit_account_id,"
                + " credit_account_id, token, amount, expires_at, created_at) SELECT * FROM unnest(?::uuid[],"
                + " ?::bigint[], ?::bigint[], ?::bigint[], ?::char(42)[], ?::text[]::numeric[],"
                + " ?::text[]::timestamptz[], ?::text[]::timestamptz[])")) {
            ps.setArray(1, c.createArrayOf("uuid", ids));
            ps.setArray(2, c.createArrayOf("bigint", seqs));
            ps.setArray(3, c.createArrayOf("bigint", debits));
            ps.setArray(4, c.createArrayOf("bigint", credits));
            ps.setArray(5, c.createArrayOf("varchar", tokens));
            ps.setArray(6, c.createArrayOf("text", amounts));
            ps.setArray(7, c.createArrayOf("text", expires));
            ps.setArray(8, c.createArrayOf("text", created));
            expectRows(ps.executeUpdate(), n, "open holds inserted");
        }
    }

    private void markHoldsResolved(Connection c, List<GroupWrite.Closed> resolved) throws SQLException {
        if (resolved.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE open_holds h SET resolved_seq = v.seq"
                + " FROM unnest(?::uuid[], ?::bigint[]) AS v(id, seq) WHERE h.pending_id = v.id")) {
            ps.setArray(1, c.createArrayOf("uuid",
                    resolved.stream().map(r -> r.pendingId().toUuid()).toArray(UUID[]::new)));
            ps.setArray(2, c.createArrayOf("bigint", resolved.stream().map(GroupWrite.Closed::closedBy).toArray()));
            ps.executeUpdate();
        }
    }

    private void insertWithdrawals(Connection c, List<WithdrawalRow> withdrawals) throws SQLException {
        if (withdrawals.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pending_withdrawals"
                + " (seq, transfer_id, account_id, token, amount, created_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            for (WithdrawalRow w : withdrawals) {
                ps.setLong(1, w.seq());
                ps.setObject(2, w.transferId().toUuid());
                ps.setLong(3, w.accountId());
                ps.setString(4, w.token().hex());
                ps.setBigDecimal(5, new BigDecimal(w.amount()));
                ps.setTimestamp(6, Timestamp.from(w.createdAt()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Marks paid withdrawals; one that is not there was booked before the table existed and paid since. */
    private void markWithdrawalsPaid(Connection c, List<GroupWrite.Closed> paid) throws SQLException {
        if (paid.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE pending_withdrawals w SET paid_seq = v.paid"
                + " FROM unnest(?::bigint[], ?::bigint[]) AS v(seq, paid) WHERE w.seq = v.seq")) {
            ps.setArray(1, c.createArrayOf("bigint", paid.stream().map(GroupWrite.Closed::withdrawalSeq).toArray()));
            ps.setArray(2, c.createArrayOf("bigint", paid.stream().map(GroupWrite.Closed::closedBy).toArray()));
            ps.executeUpdate();
        }
    }

    /** With a checkpoint at {@code seq}: rows closed at or before it are no read's business any more. */
    private void deleteClosed(Connection c, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM pending_withdrawals WHERE paid_seq <= ?")) {
            ps.setLong(1, seq);
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM open_holds WHERE resolved_seq <= ?")) {
            ps.setLong(1, seq);
            ps.executeUpdate();
        }
    }

    private void addTotals(Connection c, List<TotalsDelta> totals) throws SQLException {
        if (totals.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO ledger_totals (token, category, count, amount) VALUES (?, ?, ?, ?)
                ON CONFLICT (token, category) DO UPDATE
                SET count = ledger_totals.count + EXCLUDED.count, amount = ledger_totals.amount + EXCLUDED.amount""")) {
            for (TotalsDelta t : totals) {
                ps.setString(1, t.token().hex());
                ps.setString(2, t.category());
                ps.setLong(3, t.count());
                ps.setBigDecimal(4, new BigDecimal(t.amount()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void insertTokens(Connection c, List<Token> tokens, Instant at) throws SQLException {
        if (tokens.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO tokens (address, symbol, decimals, registered_at) VALUES (?, ?, ?, ?)")) {
            for (Token token : tokens) {
                ps.setString(1, token.address().hex());
                ps.setString(2, token.symbol());
                ps.setInt(3, token.decimals());
                ps.setTimestamp(4, Timestamp.from(at));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void insertAccounts(Connection c, List<AccountRow> accounts) throws SQLException {
        if (accounts.isEmpty()) {
            return;
        }
        int n = accounts.size();
        Long[] ids = new Long[n];
        String[] kinds = new String[n];
        String[] owners = new String[n];
        String[] tokens = new String[n];
        Boolean[] negative = new Boolean[n];
        String[] createdAt = new String[n];
        String[] escrowIds = new String[n];
        for (int i = 0; i < n; i++) {
            AccountRow a = accounts.get(i);
            ids[i] = a.id();
            kinds[i] = a.key().kind().name();
            owners[i] = a.key().owner() == null ? null : a.key().owner().hex();
            tokens[i] = a.key().token().hex();
            negative[i] = a.key().kind().mayGoNegative();
            createdAt[i] = a.createdAt().toString();
            escrowIds[i] = a.key().escrowId();
        }
        String sql = "INSERT INTO accounts (id, kind, owner, token, may_go_negative, created_at, escrow_id)"
                + " SELECT * FROM unnest(?::bigint[], ?::varchar[], ?::char(42)[], ?::char(42)[], ?::boolean[],"
                + " ?::text[]::timestamptz[], ?::varchar[])";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            ps.setArray(2, c.createArrayOf("varchar", kinds));
            ps.setArray(3, c.createArrayOf("varchar", owners));
            ps.setArray(4, c.createArrayOf("varchar", tokens));
            ps.setArray(5, c.createArrayOf("boolean", negative));
            ps.setArray(6, c.createArrayOf("text", createdAt));
            ps.setArray(7, c.createArrayOf("varchar", escrowIds));
            expectRows(ps.executeUpdate(), n, "accounts inserted");
        }
    }

    /**
     * COPY in PostgreSQL's binary form ({@link BinaryCopy}): much cheaper per row than any INSERT,
     * one round trip, and no text for the server to parse; a group of plain payments names only
     * the columns they fill.
     */
    private void insertTransfers(Connection c, List<TransferRow> transfers) throws SQLException {
        if (transfers.isEmpty()) {
            return;
        }
        boolean narrow = BinaryCopy.narrow(transfers);
        byte[] rows = BinaryCopy.transfers(transfers, narrow);
        // The rows go out as they are: CopyManager.copyIn(sql, InputStream) would allocate a 64 KB
        // buffer for every group (most of the writer's allocation at open-loop rates).
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(
                "COPY transfers (" + (narrow ? NARROW_TRANSFER_COLUMNS : TRANSFER_COLUMNS) + ") FROM STDIN (FORMAT binary)");
        try {
            copy.writeToCopy(rows, 0, rows.length);
            expectRows((int) copy.endCopy(), transfers.size(), "transfers copied");
        } catch (SQLException e) {
            if (copy.isActive()) {
                try {
                    copy.cancelCopy();
                } catch (SQLException cancel) {
                    e.addSuppressed(cancel);
                }
            }
            throw e;
        }
    }

    private void updateBalances(Connection c, List<AccountRow> accounts) throws SQLException {
        if (accounts.isEmpty()) {
            return;
        }
        int n = accounts.size();
        Long[] ids = new Long[n];
        String[] dp = new String[n];
        String[] cp = new String[n];
        String[] dpe = new String[n];
        String[] cpe = new String[n];
        for (int i = 0; i < n; i++) {
            AccountRow a = accounts.get(i);
            ids[i] = a.id();
            dp[i] = a.debitsPosted().toString();
            cp[i] = a.creditsPosted().toString();
            dpe[i] = a.debitsPending().toString();
            cpe[i] = a.creditsPending().toString();
        }
        String sql = "UPDATE accounts a SET debits_posted = v.dp, credits_posted = v.cp,"
                + " debits_pending = v.dpe, credits_pending = v.cpe"
                + " FROM unnest(?::bigint[], ?::text[]::numeric[], ?::text[]::numeric[], ?::text[]::numeric[],"
                + " ?::text[]::numeric[]) AS v(id, dp, cp, dpe, cpe) WHERE a.id = v.id";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            ps.setArray(2, c.createArrayOf("text", dp));
            ps.setArray(3, c.createArrayOf("text", cp));
            ps.setArray(4, c.createArrayOf("text", dpe));
            ps.setArray(5, c.createArrayOf("text", cpe));
            expectRows(ps.executeUpdate(), n, "balances updated");
        }
    }

    private void insertAudit(Connection c, List<AuditEntry> audit) throws SQLException {
        if (audit.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO audit_log (occurred_at, actor, action, subject, reason, transfer_id, token, amount)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (AuditEntry e : audit) {
                ps.setTimestamp(1, Timestamp.from(e.occurredAt()));
                ps.setString(2, e.actor());
                ps.setString(3, e.action());
                ps.setString(4, e.subject());
                ps.setString(5, e.reason());
                ps.setObject(6, e.transferId() == null ? null : e.transferId().toUuid());
                ps.setString(7, e.token() == null ? null : e.token().hex());
                ps.setBigDecimal(8, e.amount() == null ? null : new BigDecimal(e.amount()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void expectRows(int actual, int expected, String what) throws SQLException {
        if (actual != expected) {
            throw new SQLException(what + ": expected " + expected + " rows, got " + actual);
        }
    }

    private static Array uuids(Connection c, Collection<TransferId> ids) throws SQLException {
        return c.createArrayOf("uuid", ids.stream().map(TransferId::toUuid).toArray(UUID[]::new));
    }

    private static String prefixed(String alias) {
        return alias + "." + TRANSFER_COLUMNS.replace(", ", ", " + alias + ".");
    }

    /** An account row from the columns {@code ACCOUNT_COLUMNS}, in that order, from column 1. */
    public static AccountRow account(ResultSet rs) throws SQLException {
        AccountKind kind = AccountKind.valueOf(rs.getString(2));
        String owner = rs.getString(3);
        AccountKey key = AccountKey.of(kind, kind == AccountKind.USER ? Address.of(owner) : null,
                Address.of(rs.getString(4)), rs.getString(10));
        return new AccountRow(rs.getLong(1), key, integer(rs, 5), integer(rs, 6), integer(rs, 7), integer(rs, 8),
                rs.getTimestamp(9).toInstant());
    }

    private static BigInteger integer(ResultSet rs, int column) throws SQLException {
        return rs.getBigDecimal(column).toBigIntegerExact();
    }

    private static TransferRow transfer(ResultSet rs) throws SQLException {
        String pendingId = rs.getString(8);
        long timeout = rs.getLong(9);
        Long timeoutSeconds = rs.wasNull() ? null : timeout;
        Timestamp expiresAt = rs.getTimestamp(10);
        String linkGroup = rs.getString(11);
        return new TransferRow(
                TransferId.of(UUID.fromString(rs.getString(1))),
                rs.getLong(2),
                TransferKind.valueOf(rs.getString(3)),
                rs.getLong(4),
                rs.getLong(5),
                Address.of(rs.getString(6)),
                rs.getBigDecimal(7).toBigIntegerExact(),
                pendingId == null ? null : TransferId.of(UUID.fromString(pendingId)),
                timeoutSeconds,
                expiresAt == null ? null : expiresAt.toInstant(),
                linkGroup == null ? null : TransferId.of(UUID.fromString(linkGroup)),
                rs.getString(12),
                rs.getTimestamp(13).toInstant());
    }

    /** All accounts with their exact committed totals (read side; any connection). */
    public List<AccountRow> readAccounts(Connection c) throws SQLException {
        return loadAccounts(c).stream().map(LoadedAccount::row).toList();
    }
}
