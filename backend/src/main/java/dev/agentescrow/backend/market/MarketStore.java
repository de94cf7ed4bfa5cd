package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The marketplace's rows in schema {@code backend}: services and requests. The callers run every
 * change inside one transaction that holds the row's lock.
 */
@Component
public class MarketStore {
    /** A task's or request's failure, in the order {@link #failure} reads and {@link #failureArgs} writes. */
    static final String FAILURE_COLUMNS = "failed_at, failure_reason, failure_detail, dispute_window_ends, disputed_at,"
            + " dispute_detail, decided_at";
    private static final String SERVICE_COLUMNS = "id, provider, state, capabilities, description, token, price, unit,"
            + " max_delivery_seconds, total_requests, scored_requests, successful_requests, quality_sum, created_at,"
            + " updated_at, position";
    private static final String REQUEST_COLUMNS = "id, service_id, consumer, provider, state, token, units, input, base,"
            + " max_multiplier_bps, escrowed, escrow_id, max_delivery_seconds, created_at, completed_at, result_ref,"
            + " scored_at, quality, accuracy, payout, refund, breakdown, evaluator, position, closure, closure_at,"
            + " dispute_window_seconds, " + FAILURE_COLUMNS;

    private final JdbcTemplate jdbc;

    public MarketStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    // ------------------------------------------------------------------ services

    /** Inserts a new service; false if the id exists (a retried registration). */
    public boolean insert(ServiceListing s) {
        return jdbc.update("INSERT INTO backend.market_services (id, provider, state, capabilities, description, token,"
                        + " price, unit, max_delivery_seconds, created_at, updated_at)"
                        + " VALUES (?, ?, ?, CAST(? AS VARCHAR(40)[]), ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                s.id(), s.provider().hex(), s.state().name(), s.capabilities().toArray(String[]::new), s.description(),
                s.token().hex(), dec(s.price()), s.unit(), s.maxDeliverySeconds(), ts(s.createdAt()),
                ts(s.updatedAt())) == 1;
    }

    /** Writes a service's terms and state (its record moves only through {@link #recordOutcome}). */
    public void update(ServiceListing s) {
        jdbc.update("UPDATE backend.market_services SET state = ?, capabilities = CAST(? AS VARCHAR(40)[]),"
                        + " description = ?, price = ?, unit = ?, max_delivery_seconds = ?, updated_at = ? WHERE id = ?",
                s.state().name(), s.capabilities().toArray(String[]::new), s.description(), dec(s.price()), s.unit(),
                s.maxDeliverySeconds(), ts(s.updatedAt()), s.id());
    }

    public Optional<ServiceListing> findService(String id) {
        return jdbc.query("SELECT " + SERVICE_COLUMNS + " FROM backend.market_services WHERE id = ?",
                (rs, n) -> service(rs), id).stream().findFirst();
    }

    /** The service, its row locked until the caller's transaction ends ({@code share}: a shared lock). */
    public Optional<ServiceListing> lockService(String id, boolean share) {
        return jdbc.query("SELECT " + SERVICE_COLUMNS + " FROM backend.market_services WHERE id = ? FOR "
                + (share ? "SHARE" : "UPDATE"), (rs, n) -> service(rs), id).stream().findFirst();
    }

    /** Active services, newest first, filtered by capability, token and provider (each null for any); keyset pages. */
    public List<ServiceListing> search(String capability, Address token, Address provider, long before, int limit) {
        StringBuilder where = new StringBuilder(" WHERE state = 'ACTIVE'");
        List<Object> args = new ArrayList<>();
        if (capability != null) {
            where.append(" AND capabilities @> CAST(? AS VARCHAR(40)[])");
            args.add(new String[] {capability});
        }
        if (token != null) {
            where.append(" AND token = ?");
            args.add(token.hex());
        }
        if (provider != null) {
            where.append(" AND provider = ?");
            args.add(provider.hex());
        }
        if (before > 0) {
            where.append(" AND position < ?");
            args.add(before);
        }
        args.add(limit);
        return jdbc.query("SELECT " + SERVICE_COLUMNS + " FROM backend.market_services" + where
                + " ORDER BY position DESC LIMIT ?", (rs, n) -> service(rs), args.toArray());
    }

    /** A new request counts towards the service's total. */
    public void countRequest(String serviceId) {
        jdbc.update("UPDATE backend.market_services SET total_requests = total_requests + 1 WHERE id = ?", serviceId);
    }

    /** A verdict on a request (scored, failed, or decided by the arbiter) moves the service's record. */
    public void recordOutcome(String serviceId, int quality, boolean success) {
        jdbc.update("UPDATE backend.market_services SET scored_requests = scored_requests + 1,"
                + " successful_requests = successful_requests + ?, quality_sum = quality_sum + ? WHERE id = ?",
                success ? 1 : 0, quality, serviceId);
    }

    /**
     * The base prices per request of the {@code sample} most recently scored requests to services
     * with {@code capability} in {@code token} (per-unit requests count as their price per unit).
     */
    public List<BigInteger> recentPrices(String capability, Address token, int sample) {
        return jdbc.query("SELECT r.base / r.units FROM backend.market_requests r"
                + " JOIN backend.market_services s ON s.id = r.service_id"
                + " WHERE r.state = 'SCORED' AND r.token = ? AND s.capabilities @> CAST(? AS VARCHAR(40)[])"
                + " ORDER BY r.scored_at DESC LIMIT ?", (rs, n) -> rs.getBigDecimal(1).toBigInteger(),
                token.hex(), new String[] {capability}, sample);
    }

    /** What an outcome was about: a direct request or a task. */
    public enum OutcomeKind { REQUEST, TASK }

    /** How the work ended: scored, failed (reported, undisputed), missed its deadline, or decided by the arbiter. */
    public enum OutcomeResult { SCORED, FAILED, DEADLINE_MISSED, RESOLVED }

    /** One stored outcome of an agent's work, with the {@link Reputation.Outcome} it counts as. */
    public record RecordedOutcome(OutcomeKind kind, String subjectId, OutcomeResult result, Reputation.Outcome outcome) {
    }

    /**
     * Records an outcome of {@code agent}'s work, once per (kind, subject): in the transaction that
     * settles the request or task. {@code counterparty} is the one whose word it is (the evaluator,
     * else the consumer or poster); {@code quality} 0-200.
     */
    public void addOutcome(Address agent, Address counterparty, OutcomeKind kind, String subjectId, OutcomeResult result,
                           int quality, boolean late, Instant at) {
        jdbc.update("INSERT INTO backend.market_outcomes (agent, counterparty, kind, subject_id, result, quality, late, at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, subject_id) DO NOTHING",
                agent.hex(), counterparty.hex(), kind.name(), subjectId, result.name(),
                Math.max(0, Math.min(200, quality)), late, ts(at));
    }

    /**
     * The agent's most recent outcomes (at most {@link Reputation#MAX_OUTCOMES}) of tasks and
     * requests, newest first, each with its counterparty's breadth: the distinct agents other than
     * this one whose work that counterparty has rated.
     */
    public List<RecordedOutcome> outcomes(Address agent) {
        return outcomes(agent, null);
    }

    /**
     * {@link #outcomes(Address)} as they stood at {@code asOf} (null: now): only outcomes recorded
     * at or before it count, as outcomes and in the breadths.
     */
    public List<RecordedOutcome> outcomes(Address agent, Instant asOf) {
        return jdbc.query("SELECT o.counterparty, o.at, o.quality, o.late,"
                + " (SELECT count(DISTINCT c.agent) FROM backend.market_outcomes c WHERE c.counterparty = o.counterparty"
                + "  AND c.agent <> o.agent AND (CAST(? AS TIMESTAMPTZ) IS NULL OR c.at <= ?)), o.kind, o.subject_id,"
                + " o.result FROM backend.market_outcomes o WHERE o.agent = ?"
                + " AND (CAST(? AS TIMESTAMPTZ) IS NULL OR o.at <= ?) ORDER BY o.at DESC, o.id DESC LIMIT ?",
                (rs, n) -> new RecordedOutcome(OutcomeKind.valueOf(rs.getString(6)), rs.getString(7),
                        OutcomeResult.valueOf(rs.getString(8)), new Reputation.Outcome(rs.getString(1), instant(rs, 2),
                        rs.getInt(3), rs.getBoolean(4), rs.getLong(5))), ts(asOf), ts(asOf), agent.hex(), ts(asOf),
                ts(asOf), Reputation.MAX_OUTCOMES);
    }

    // ------------------------------------------------------------------ requests

    public void insert(ServiceRequest r) {
        jdbc.update("INSERT INTO backend.market_requests (id, service_id, consumer, provider, state, token, units, input,"
                        + " base, max_multiplier_bps, escrowed, escrow_id, max_delivery_seconds, created_at, evaluator,"
                        + " dispute_window_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                r.id(), r.serviceId(), r.consumer().hex(), r.provider().hex(), r.state().name(), r.token().hex(),
                r.units(), r.input(), dec(r.base()), r.maxMultiplierBps(), dec(r.escrowed()), r.escrowId(),
                r.maxDeliverySeconds(), ts(r.createdAt()), r.evaluator() == null ? null : r.evaluator().hex(),
                r.disputeWindowSeconds());
    }

    public Optional<ServiceRequest> findRequest(String id) {
        return jdbc.query("SELECT " + REQUEST_COLUMNS + " FROM backend.market_requests WHERE id = ?",
                (rs, n) -> request(rs), id).stream().findFirst();
    }

    /** The request, its row locked until the caller's transaction ends (concurrent actions queue here). */
    public Optional<ServiceRequest> lockRequest(String id) {
        return jdbc.query("SELECT " + REQUEST_COLUMNS + " FROM backend.market_requests WHERE id = ? FOR UPDATE",
                (rs, n) -> request(rs), id).stream().findFirst();
    }

    /** Writes the completion or the scoring of a request. */
    public void update(ServiceRequest r) {
        jdbc.update("UPDATE backend.market_requests SET state = ?, completed_at = ?, result_ref = ?, scored_at = ?,"
                        + " quality = ?, accuracy = ?, payout = ?, refund = ?, breakdown = ?, closure = ?, closure_at = ?,"
                        + " failed_at = ?, failure_reason = ?, failure_detail = ?, dispute_window_ends = ?, disputed_at = ?,"
                        + " dispute_detail = ?, decided_at = ? WHERE id = ?",
                concat(new Object[] {r.state().name(), ts(r.completedAt()), r.resultRef(), ts(r.scoredAt()), r.quality(),
                    r.accuracy(), dec(r.payout()), dec(r.refund()), r.breakdown(),
                    r.closed() == null ? null : r.closed().how().name(), r.closed() == null ? null : ts(r.closed().at())},
                        failureArgs(r.failure()), new Object[] {r.id()}));
    }

    /**
     * Running requests with something due at {@code now}: ESCROWED past the escrow's deadline (never
     * delivered), FAILURE_REPORTED past the dispute window, or whose escrow ended or is due on the
     * escrow's own schedule; oldest first.
     */
    public List<String> dueRequests(Instant now, int limit) {
        return jdbc.queryForList("SELECT r.id FROM backend.market_requests r JOIN backend.escrows e ON e.id = r.escrow_id"
                + " WHERE r.state IN ('ESCROWED', 'COMPLETED', 'FAILURE_REPORTED', 'DISPUTED')"
                + " AND ((r.state = 'ESCROWED' AND e.deadline < ?) OR (r.state = 'FAILURE_REPORTED'"
                + " AND r.dispute_window_ends < ?) OR e.due_at IS NULL OR e.due_at < ?) ORDER BY r.created_at LIMIT ?",
                String.class, ts(now), ts(now), ts(now), limit);
    }

    /** A party's role in a request, as a listing asks for it. */
    public enum RequestRole { CONSUMER, PROVIDER, EVALUATOR }

    /** The caller's requests as consumer, provider or evaluator, newest first; keyset pages. */
    public List<ServiceRequest> requests(Address who, RequestRole role, long before, int limit) {
        return jdbc.query("SELECT " + REQUEST_COLUMNS + " FROM backend.market_requests WHERE "
                        + role.name().toLowerCase(java.util.Locale.ROOT) + " = ? AND (? = 0 OR position < ?)"
                        + " ORDER BY position DESC LIMIT ?", (rs, n) -> request(rs), who.hex(), before, before, limit);
    }

    // ------------------------------------------------------------------ mapping

    private static ServiceListing service(ResultSet rs) throws SQLException {
        Array capabilities = rs.getArray(4);
        return new ServiceListing(rs.getString(1), Address.of(rs.getString(2)),
                ServiceListing.State.valueOf(rs.getString(3)), Arrays.asList((String[]) capabilities.getArray()),
                rs.getString(5), Address.of(rs.getString(6)), big(rs, 7), rs.getString(8), rs.getLong(9),
                rs.getLong(10), rs.getLong(11), rs.getLong(12), rs.getLong(13), instant(rs, 14), instant(rs, 15),
                rs.getLong(16));
    }

    private static ServiceRequest request(ResultSet rs) throws SQLException {
        return new ServiceRequest(rs.getString(1), rs.getString(2), Address.of(rs.getString(3)),
                Address.of(rs.getString(4)), ServiceRequest.State.valueOf(rs.getString(5)), Address.of(rs.getString(6)),
                rs.getLong(7), rs.getString(8), big(rs, 9), rs.getInt(10), big(rs, 11), rs.getString(12),
                rs.getLong(13), instant(rs, 14), instant(rs, 15), rs.getString(16), instant(rs, 17),
                (Integer) rs.getObject(18), (Integer) rs.getObject(19), big(rs, 20), big(rs, 21), rs.getString(22),
                rs.getString(23) == null ? null : Address.of(rs.getString(23)),
                rs.getLong(27), failure(rs, 28), closed(rs, 25), rs.getLong(24));
    }

    /** A task's or request's failure read from {@link #FAILURE_COLUMNS} at {@code first}; null without one. */
    static MarketTask.Failure failure(ResultSet rs, int first) throws SQLException {
        String reason = rs.getString(first + 1);
        return reason == null ? null : new MarketTask.Failure(instant(rs, first),
                MarketTask.FailureReason.valueOf(reason), rs.getString(first + 2), instant(rs, first + 3),
                instant(rs, first + 4), rs.getString(first + 5), instant(rs, first + 6));
    }

    /** The values of {@link #FAILURE_COLUMNS} for {@code f} (all null without one). */
    static Object[] failureArgs(MarketTask.Failure f) {
        return f == null ? new Object[7] : new Object[] {ts(f.failedAt()), f.reason().name(), f.detail(),
            ts(f.windowEnds()), ts(f.disputedAt()), f.disputeDetail(), ts(f.decidedAt())};
    }

    /** How a CLOSED task's or request's escrow ended, read from (closure, closure_at) at {@code first}. */
    static MarketTask.Closed closed(ResultSet rs, int first) throws SQLException {
        String how = rs.getString(first);
        return how == null ? null : new MarketTask.Closed(EscrowClosure.How.valueOf(how), instant(rs, first + 1));
    }

    static Object[] concat(Object[]... parts) {
        List<Object> all = new ArrayList<>();
        for (Object[] part : parts) {
            all.addAll(Arrays.asList(part));
        }
        return all.toArray();
    }

    static BigInteger big(ResultSet rs, int column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        return value == null ? null : value.toBigIntegerExact();
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp value = rs.getTimestamp(column);
        return value == null ? null : value.toInstant();
    }

    static BigDecimal dec(BigInteger value) {
        return value == null ? null : new BigDecimal(value);
    }

    static Timestamp ts(Instant value) {
        return value == null ? null : Timestamp.from(value);
    }
}
