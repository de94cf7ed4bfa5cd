package dev.agentescrow.backend.market;

import static dev.agentescrow.backend.market.MarketStore.big;
import static dev.agentescrow.backend.market.MarketStore.dec;
import static dev.agentescrow.backend.market.MarketStore.instant;
import static dev.agentescrow.backend.market.MarketStore.ts;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The marketplace's tasks and their sealed bids in schema {@code backend}. The callers run every
 * change inside one transaction that holds the task's row lock (bids, the allocation and the task's
 * actions alike: bids on one task queue, so their count is exact).
 */
@Component
public class MarketTaskStore {
    private static final String COLUMNS = "id, poster, state, capabilities, description, token, budget,"
            + " max_multiplier_bps, max_base_price, bidding_closes_at, work_seconds, created_at, closed_at, reason,"
            + " winner, clearing_price, reserve_applied, escrowed, escrow_id, completed_at, result_ref, scored_at,"
            + " quality, accuracy, payout, refund, breakdown, evaluator, dispute_window_seconds, "
            + MarketStore.FAILURE_COLUMNS + ", position, closure, closure_at";

    private final JdbcTemplate jdbc;

    public MarketTaskStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Inserts a new task; false if the id exists (a retried posting). */
    /**
     * Inserts a new task with {@code escrowSecret}, the secret its escrow's Idempotency-Key carries
     * ({@link MarketIds#taskEscrowKey}); false if the id exists (a retried post keeps the first's).
     */
    public boolean insert(MarketTask t, String escrowSecret) {
        return jdbc.update("INSERT INTO backend.market_tasks (id, poster, state, capabilities, description, token,"
                        + " budget, max_multiplier_bps, max_base_price, bidding_closes_at, work_seconds, created_at,"
                        + " evaluator, dispute_window_seconds, escrow_secret)"
                        + " VALUES (?, ?, ?, CAST(? AS VARCHAR(40)[]), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                t.id(), t.poster().hex(), t.state().name(), t.capabilities().toArray(String[]::new), t.description(),
                t.token().hex(), dec(t.budget()), t.maxMultiplierBps(), dec(t.maxBasePrice()), ts(t.biddingClosesAt()),
                t.workSeconds(), ts(t.createdAt()), t.evaluator() == null ? null : t.evaluator().hex(),
                t.disputeWindowSeconds(), escrowSecret) == 1;
    }

    /** The task's escrow secret; null for a task posted before it (or none). */
    public String escrowSecret(String id) {
        List<String> secrets = jdbc.query("SELECT escrow_secret FROM backend.market_tasks WHERE id = ?",
                (rs, n) -> rs.getString(1), id);
        return secrets.isEmpty() ? null : secrets.getFirst();
    }

    public Optional<MarketTask> find(String id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM backend.market_tasks WHERE id = ?", (rs, n) -> task(rs), id)
                .stream().findFirst();
    }

    /** The task, its row locked until the caller's transaction ends. */
    public Optional<MarketTask> lock(String id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM backend.market_tasks WHERE id = ? FOR UPDATE",
                (rs, n) -> task(rs), id).stream().findFirst();
    }

    /** Writes the allocation, completion or scoring of a task. */
    public void update(MarketTask t) {
        jdbc.update("UPDATE backend.market_tasks SET state = ?, closed_at = ?, reason = ?, winner = ?,"
                        + " clearing_price = ?, reserve_applied = ?, escrowed = ?, escrow_id = ?, completed_at = ?,"
                        + " result_ref = ?, scored_at = ?, quality = ?, accuracy = ?, payout = ?, refund = ?,"
                        + " breakdown = ?, failed_at = ?, failure_reason = ?, failure_detail = ?, dispute_window_ends = ?,"
                        + " disputed_at = ?, dispute_detail = ?, decided_at = ?, closure = ?, closure_at = ? WHERE id = ?",
                MarketStore.concat(new Object[] {t.state().name(), ts(t.closedAt()), t.reason(),
                    t.winner() == null ? null : t.winner().hex(), dec(t.clearingPrice()), t.reserveApplied(),
                    dec(t.escrowed()), t.escrowId(), ts(t.completedAt()), t.resultRef(), ts(t.scoredAt()), t.quality(),
                    t.accuracy(), dec(t.payout()), dec(t.refund()), t.breakdown()},
                        MarketStore.failureArgs(t.failure()), new Object[] {
                    t.closed() == null ? null : t.closed().how().name(), t.closed() == null ? null : ts(t.closed().at()),
                    t.id()}));
    }

    /**
     * Running tasks with something due at {@code now}: ALLOCATED past the late window (a missed
     * deadline), FAILURE_REPORTED past the dispute window, or any whose escrow ended or is due on
     * the escrow's own schedule (its grace or arbitration period ended); oldest first.
     */
    public List<String> dueSettlements(Instant now, int limit) {
        return jdbc.queryForList("SELECT t.id FROM backend.market_tasks t JOIN backend.escrows e ON e.id = t.escrow_id"
                + " WHERE t.state IN ('ALLOCATED', 'COMPLETED', 'FAILURE_REPORTED', 'DISPUTED')"
                + " AND ((t.state = 'ALLOCATED' AND t.closed_at + 2 * t.work_seconds * INTERVAL '1 second' < ?)"
                + " OR (t.state = 'FAILURE_REPORTED' AND t.dispute_window_ends < ?) OR e.due_at IS NULL OR e.due_at < ?)"
                + " ORDER BY t.closed_at LIMIT ?", String.class, ts(now), ts(now), ts(now), limit);
    }

    /** What a task listing asks for; null filters are absent. */
    public record Query(String capability, MarketTask.State state, Address poster, Address bidder, Instant openAt) {
    }

    /**
     * One keyset page of tasks, newest first: by state and capability, the poster's, or those
     * {@code bidder} bid on; {@code openAt}: only OPEN tasks whose window is still open then.
     */
    public List<MarketTask> list(Query q, long before, int limit) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS.replaceAll("(^|, )([a-z_]+)", "$1t.$2")
                + " FROM backend.market_tasks t");
        List<Object> args = new ArrayList<>();
        if (q.bidder() != null) {
            sql.append(" JOIN backend.market_bids b ON b.task_id = t.id AND b.bidder = ?");
            args.add(q.bidder().hex());
        }
        sql.append(" WHERE (? = 0 OR t.position < ?)");
        args.add(before);
        args.add(before);
        if (q.poster() != null) {
            sql.append(" AND t.poster = ?");
            args.add(q.poster().hex());
        }
        if (q.state() != null) {
            sql.append(" AND t.state = ?");
            args.add(q.state().name());
        }
        if (q.openAt() != null) {
            sql.append(" AND t.state = 'OPEN' AND t.bidding_closes_at > ?");
            args.add(ts(q.openAt()));
        }
        if (q.capability() != null) {
            sql.append(" AND t.capabilities @> CAST(? AS VARCHAR(40)[])");
            args.add(new String[] {q.capability()});
        }
        sql.append(" ORDER BY t.position DESC LIMIT ?");
        args.add(limit);
        return jdbc.query(sql.toString(), (rs, n) -> task(rs), args.toArray());
    }

    /** Open tasks whose bidding window closed at or before {@code now}, oldest first. */
    public List<String> closedOpen(Instant now, int limit) {
        return jdbc.queryForList("SELECT id FROM backend.market_tasks WHERE state = 'OPEN' AND bidding_closes_at <= ?"
                + " ORDER BY bidding_closes_at LIMIT ?", String.class, ts(now), limit);
    }

    /** Stores a bid; false if the bidder has bid on the task already. */
    public boolean insertBid(String taskId, Address bidder, BigInteger ask, Instant now) {
        return jdbc.update("INSERT INTO backend.market_bids (task_id, bidder, ask, created_at) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (task_id, bidder) DO NOTHING", taskId, bidder.hex(), dec(ask), ts(now)) == 1;
    }

    /** How many bids the task has. */
    public int bidCount(String taskId) {
        return jdbc.queryForObject("SELECT count(*) FROM backend.market_bids WHERE task_id = ?", Integer.class, taskId);
    }

    /** The task's bids in the order they were stored. */
    public List<MarketTask.Bid> bids(String taskId) {
        return jdbc.query("SELECT task_id, bidder, ask, sequence, created_at FROM backend.market_bids WHERE task_id = ?"
                + " ORDER BY sequence", (rs, n) -> new MarketTask.Bid(rs.getString(1), Address.of(rs.getString(2)),
                big(rs, 3), rs.getLong(4), instant(rs, 5)), taskId);
    }

    /** Whether {@code agent} lists an active service whose capabilities include all of {@code required}. */
    public boolean covers(Address agent, List<String> required) {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM backend.market_services"
                + " WHERE provider = ? AND state = 'ACTIVE' AND capabilities @> CAST(? AS VARCHAR(40)[]))",
                Boolean.class, agent.hex(), required.toArray(String[]::new)));
    }

    private static MarketTask task(ResultSet rs) throws SQLException {
        Array capabilities = rs.getArray(4);
        String winner = rs.getString(15);
        return new MarketTask(rs.getString(1), Address.of(rs.getString(2)), MarketTask.State.valueOf(rs.getString(3)),
                Arrays.asList((String[]) capabilities.getArray()), rs.getString(5), Address.of(rs.getString(6)),
                big(rs, 7), rs.getInt(8), big(rs, 9), instant(rs, 10), rs.getLong(11), instant(rs, 12),
                instant(rs, 13), rs.getString(14), winner == null ? null : Address.of(winner), big(rs, 16),
                (Boolean) rs.getObject(17), big(rs, 18), rs.getString(19), instant(rs, 20), rs.getString(21),
                instant(rs, 22), (Integer) rs.getObject(23), (Integer) rs.getObject(24), big(rs, 25), big(rs, 26),
                rs.getString(27), address(rs.getString(28)), rs.getLong(29), MarketStore.failure(rs, 30),
                MarketStore.closed(rs, 38), rs.getLong(37));
    }

    private static Address address(String hex) {
        return hex == null ? null : Address.of(hex);
    }
}
