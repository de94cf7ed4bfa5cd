package dev.agentescrow.backend.audit;

import jakarta.servlet.http.HttpServletRequest;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Audit records of the service's state changes (principal, action, object, amount, request id,
 * idempotency key, time). A micropayment is not recorded here: its immutable ledger transfer is
 * its record.
 */
@Component
public class AuditLog {
    /** Request attribute holding the request id (set by the request id filter). */
    public static final String REQUEST_ID = "agentescrow.requestId";

    private final JdbcTemplate jdbc;
    private final Clock clock;

    public AuditLog(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    public record Entry(long id, Instant occurredAt, String principal, String action, String objectType,
                        String objectId, String token, BigInteger amount, String requestId, String idempotencyKey) {
    }

    public void record(String principal, String action, String objectType, String objectId, String token,
                       BigInteger amount) {
        String requestId = null;
        String idempotencyKey = null;
        if (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes) {
            HttpServletRequest request = attributes.getRequest();
            requestId = (String) request.getAttribute(REQUEST_ID);
            idempotencyKey = request.getHeader("Idempotency-Key");
        }
        jdbc.update("INSERT INTO backend.audit_records (occurred_at, principal, action, object_type, object_id, token, amount,"
                        + " request_id, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Timestamp.from(clock.instant()), principal, action, objectType, objectId, token,
                amount == null ? null : new BigDecimal(amount), requestId, idempotencyKey);
    }

    /** Records newest first, before {@code beforeId} (0: from the newest), of one principal or of all (null). */
    public List<Entry> list(String principal, long beforeId, int limit) {
        String where = (principal == null ? "WHERE TRUE" : "WHERE principal = ?")
                + (beforeId > 0 ? " AND id < ?" : "");
        List<Object> args = new java.util.ArrayList<>();
        if (principal != null) {
            args.add(principal);
        }
        if (beforeId > 0) {
            args.add(beforeId);
        }
        args.add(limit);
        return jdbc.query("SELECT id, occurred_at, principal, action, object_type, object_id, token, amount, request_id,"
                + " idempotency_key FROM backend.audit_records " + where + " ORDER BY id DESC LIMIT ?", (rs, n) -> new Entry(
                rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getString(7),
                rs.getBigDecimal(8) == null ? null : rs.getBigDecimal(8).toBigIntegerExact(), rs.getString(9),
                rs.getString(10)), args.toArray());
    }
}
