package dev.agentescrow.backend.workflow;

import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The workflows' rows in schema {@code backend}: terms and state ({@code workflows}), steps, and
 * every ledger transfer made. The callers run every change inside one transaction that holds the
 * workflow's row lock.
 */
@Component
public class WorkflowStore {
    private static final String COLUMNS = "id, payer, token, evaluator, mode, split, state, amount, paid, fees, refunded,"
            + " fee_bps, max_fee_bps, version, created_at, updated_at, max_multiplier_bps, protocol_fee_bps";
    private static final String STEP_COLUMNS = "idx, step_key, agent, capability, deadline, depends_on, weight, share,"
            + " state, started_at, finished_at, reported_by, reason, paid, fee, refunded, quality, accuracy, performance,"
            + " budget, max_base_price, bidding_closes_at, auction_closed_at, bids, price, reserve_applied, surplus";

    private final JdbcTemplate jdbc;

    public WorkflowStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** One ledger transfer of a workflow. */
    public record TransferRow(UUID transferId, String kind, int index, Address account, BigInteger amount, long ledgerSeq,
                              Instant occurredAt) {
    }

    /** A sealed bid on an auctioned step, with the order it was stored in (the auction's tie rule). */
    public record Bid(String workflowId, int index, Address bidder, BigInteger ask, long sequence, Instant createdAt) {
    }

    /**
     * Inserts a new workflow and its steps, with the secret its payout ids derive from
     * ({@link DerivedIds#newSecret}); false if the id exists (a retried create).
     */
    public boolean insert(Workflow w, String transferSalt) {
        int inserted = jdbc.update("INSERT INTO backend.workflows (" + COLUMNS + ", due_at, transfer_salt)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                w.id(), w.payer().hex(), w.token().hex(), w.evaluator() == null ? null : w.evaluator().hex(),
                w.mode().name(), w.split().name(), w.state().name(), dec(w.amount()), dec(w.paid()), dec(w.fees()),
                dec(w.refunded()), w.feeBps(), w.maxFeeBps(), w.version(), ts(w.createdAt()), ts(w.updatedAt()),
                w.maxMultiplierBps(), w.protocolFeeBps(), ts(w.dueAt()), transferSalt);
        if (inserted == 0) {
            return false;
        }
        for (Step s : w.steps()) {
            jdbc.update("INSERT INTO backend.workflow_steps (workflow_id, " + STEP_COLUMNS + ")"
                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    w.id(), s.index(), s.key(), hex(s.agent()), s.capability(), ts(s.deadline()),
                    String.join(",", s.dependsOn()), dec(s.weight()), dec(s.share()), s.state().name(),
                    ts(s.startedAt()), ts(s.finishedAt()), s.reportedBy(), s.reason(), dec(s.paid()), dec(s.fee()),
                    dec(s.refunded()), s.quality(), s.accuracy(), s.performance(), auction(s, StepAuction::budget),
                    auction(s, StepAuction::maxBasePrice), ts(a(s, StepAuction::biddingClosesAt)),
                    ts(a(s, StepAuction::closedAt)), a(s, StepAuction::bids), auction(s, StepAuction::price),
                    a(s, StepAuction::reserveApplied), auction(s, StepAuction::surplus));
        }
        return true;
    }

    /** Writes the workflow's new state and each step's (under the row lock the caller holds). */
    public void update(Workflow w) {
        jdbc.update("UPDATE backend.workflows SET state = ?, paid = ?, fees = ?, refunded = ?, version = ?,"
                        + " updated_at = ?, due_at = ? WHERE id = ?",
                w.state().name(), dec(w.paid()), dec(w.fees()), dec(w.refunded()), w.version(), ts(w.updatedAt()),
                ts(w.dueAt()), w.id());
        for (Step s : w.steps()) {
            jdbc.update("UPDATE backend.workflow_steps SET share = ?, state = ?, started_at = ?, finished_at = ?,"
                            + " reported_by = ?, reason = ?, paid = ?, fee = ?, refunded = ?, quality = ?, accuracy = ?,"
                            + " performance = ?, agent = ?, auction_closed_at = ?, bids = ?, price = ?,"
                            + " reserve_applied = ?, surplus = ? WHERE workflow_id = ? AND idx = ?",
                    dec(s.share()), s.state().name(), ts(s.startedAt()), ts(s.finishedAt()), s.reportedBy(), s.reason(),
                    dec(s.paid()), dec(s.fee()), dec(s.refunded()), s.quality(), s.accuracy(), s.performance(),
                    hex(s.agent()), ts(a(s, StepAuction::closedAt)), a(s, StepAuction::bids),
                    auction(s, StepAuction::price), a(s, StepAuction::reserveApplied),
                    auction(s, StepAuction::surplus), w.id(), s.index());
        }
    }

    /** The secret the workflow's payout ids derive from; null for a workflow created before it (or none). */
    public String transferSalt(String id) {
        // a row written before V18_5_1 has none: null, which a stream's findFirst() would refuse
        List<String> salts = jdbc.query("SELECT transfer_salt FROM backend.workflows WHERE id = ?",
                (rs, n) -> rs.getString(1), id);
        return salts.isEmpty() ? null : salts.getFirst();
    }

    public Optional<Workflow> find(String id) {
        List<Workflow> rows = jdbc.query("SELECT " + COLUMNS + " FROM backend.workflows WHERE id = ?",
                (rs, n) -> workflow(rs, id), id);
        return rows.stream().findFirst();
    }

    /**
     * Locks the workflow's row for the caller's transaction ({@code skipLocked}: empty if another
     * transaction holds it) and reads it.
     */
    public Optional<Workflow> lock(String id, boolean skipLocked) {
        List<String> locked = jdbc.queryForList("SELECT id FROM backend.workflows WHERE id = ? FOR UPDATE"
                + (skipLocked ? " SKIP LOCKED" : ""), String.class, id);
        return locked.isEmpty() ? Optional.empty() : find(id);
    }

    /** Stores a bid; false if the bidder has bid on the step already. */
    public boolean insertBid(String workflowId, int index, Address bidder, BigInteger ask, Instant now) {
        return jdbc.update("INSERT INTO backend.workflow_bids (workflow_id, idx, bidder, ask, created_at)"
                + " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", workflowId, index, bidder.hex(), dec(ask), ts(now)) == 1;
    }

    /** The step's bids in the order stored. */
    public List<Bid> bids(String workflowId, int index) {
        return jdbc.query("SELECT bidder, ask, sequence, created_at FROM backend.workflow_bids"
                        + " WHERE workflow_id = ? AND idx = ? ORDER BY sequence",
                (rs, n) -> new Bid(workflowId, index, Address.of(rs.getString(1)), big(rs, 2), rs.getLong(3),
                        instant(rs, 4)), workflowId, index);
    }

    /** How many bids the step has. */
    public int bidCount(String workflowId, int index) {
        Integer count = jdbc.queryForObject("SELECT count(*) FROM backend.workflow_bids WHERE workflow_id = ? AND idx = ?",
                Integer.class, workflowId, index);
        return count == null ? 0 : count;
    }

    /** Whether {@code who} has bid on any step of the workflow. */
    public boolean isBidder(String workflowId, Address who) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM backend.workflow_bids"
                + " WHERE workflow_id = ? AND bidder = ?)", Boolean.class, workflowId, who.hex()));
    }

    /** Workflows with a step whose deadline has passed by {@code now}, the oldest first. */
    public List<String> due(Instant now, int limit) {
        return jdbc.queryForList("SELECT id FROM backend.workflows WHERE due_at < ? ORDER BY due_at LIMIT ?",
                String.class, ts(now), limit);
    }

    public void transfer(String workflowId, TransferRow row) {
        jdbc.update("INSERT INTO backend.workflow_transfers (workflow_id, transfer_id, kind, idx, account, amount,"
                        + " ledger_seq, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                workflowId, row.transferId(), row.kind(), row.index(), row.account() == null ? null : row.account().hex(),
                dec(row.amount()), row.ledgerSeq(), ts(row.occurredAt()));
    }

    public List<TransferRow> transfers(String workflowId) {
        return jdbc.query("SELECT transfer_id, kind, idx, account, amount, ledger_seq, occurred_at"
                        + " FROM backend.workflow_transfers WHERE workflow_id = ? ORDER BY ledger_seq, kind",
                (rs, n) -> new TransferRow(rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(3),
                        address(rs.getString(4)), rs.getBigDecimal(5).toBigIntegerExact(), rs.getLong(6),
                        rs.getTimestamp(7).toInstant()), workflowId);
    }

    private Workflow workflow(ResultSet rs, String id) throws SQLException {
        List<Step> steps = jdbc.query("SELECT " + STEP_COLUMNS + " FROM backend.workflow_steps WHERE workflow_id = ?"
                + " ORDER BY idx", (r, n) -> step(r), id);
        return new Workflow(rs.getString(1), Address.of(rs.getString(2)), Address.of(rs.getString(3)),
                address(rs.getString(4)), WorkflowMode.valueOf(rs.getString(5)), SplitKind.valueOf(rs.getString(6)),
                WorkflowState.valueOf(rs.getString(7)), big(rs, 8), big(rs, 9), big(rs, 10), big(rs, 11), rs.getInt(12),
                rs.getInt(18), rs.getInt(13), (Integer) rs.getObject(17), rs.getInt(14), instant(rs, 15), instant(rs, 16),
                steps);
    }

    private static Step step(ResultSet r) throws SQLException {
        String deps = r.getString(6);
        BigInteger budget = big(r, 20);
        StepAuction auction = budget == null ? null : new StepAuction(budget, big(r, 21), instant(r, 22),
                instant(r, 23), (Integer) r.getObject(24), big(r, 25), (Boolean) r.getObject(26), big(r, 27));
        return new Step(r.getInt(1), r.getString(2), address(r.getString(3)), r.getString(4), instant(r, 5),
                deps.isEmpty() ? List.of() : Arrays.asList(deps.split(",")), big(r, 7), big(r, 8),
                StepState.valueOf(r.getString(9)), instant(r, 10), instant(r, 11), r.getString(12), r.getString(13),
                big(r, 14), big(r, 15), big(r, 16), (Integer) r.getObject(17), (Integer) r.getObject(18),
                r.getString(19), auction);
    }

    private static String hex(Address a) {
        return a == null ? null : a.hex();
    }

    private static <T> T a(Step s, java.util.function.Function<StepAuction, T> field) {
        return s.auction() == null ? null : field.apply(s.auction());
    }

    private static BigDecimal auction(Step s, java.util.function.Function<StepAuction, BigInteger> field) {
        return dec(a(s, field));
    }

    private static Address address(String hex) {
        return hex == null ? null : Address.of(hex);
    }

    private static BigInteger big(ResultSet rs, int column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        return value == null ? null : value.toBigIntegerExact();
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp value = rs.getTimestamp(column);
        return value == null ? null : value.toInstant();
    }

    private static BigDecimal dec(BigInteger value) {
        return value == null ? null : new BigDecimal(value);
    }

    private static Timestamp ts(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }
}
