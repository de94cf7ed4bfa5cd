package dev.agentescrow.backend.events;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** An endpoint's deliveries, newest first, each with every attempt made. */
@Component
public class DeliveryLog {
    public static final int MAX_PAGE = 200;

    private final JdbcTemplate jdbc;

    public DeliveryLog(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public record Attempt(int attempt, Instant startedAt, long durationMs, Integer statusCode, String error) {
    }

    public record Delivery(UUID id, UUID eventId, String eventType, long sequence, String state, int attempts,
                           Instant nextAttemptAt, Instant createdAt, Instant completedAt, List<Attempt> attemptLog) {
    }

    /**
     * A page of deliveries of endpoint {@code endpointId} (the caller checked it is the principal's),
     * before {@code cursor} (a previous page's last delivery; empty for the first page).
     */
    public List<Delivery> page(UUID endpointId, Optional<Cursor> cursor, int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be in [1, " + MAX_PAGE + "]");
        }
        List<Object> args = new ArrayList<>(List.of(endpointId));
        String before = "";
        if (cursor.isPresent()) {
            before = " AND (d.created_at, d.id) < (?, ?)";
            args.add(java.sql.Timestamp.from(cursor.get().createdAt()));
            args.add(cursor.get().id());
        }
        args.add(limit);
        Map<UUID, Delivery> deliveries = new LinkedHashMap<>();
        jdbc.query("SELECT d.id, d.event_id, e.type, e.sequence, d.state, d.attempts, d.next_attempt_at, d.created_at,"
                        + " d.completed_at FROM backend.webhook_deliveries d JOIN backend.events e ON e.id = d.event_id"
                        + " WHERE d.endpoint_id = ?" + before + " ORDER BY d.created_at DESC, d.id DESC LIMIT ?",
                rs -> {
                    UUID id = rs.getObject(1, UUID.class);
                    String state = rs.getString(5);
                    deliveries.put(id, new Delivery(id, rs.getObject(2, UUID.class), rs.getString(3), rs.getLong(4), state,
                            rs.getInt(6), "PENDING".equals(state) ? rs.getTimestamp(7).toInstant() : null,
                            rs.getTimestamp(8).toInstant(),
                            rs.getTimestamp(9) == null ? null : rs.getTimestamp(9).toInstant(), new ArrayList<>()));
                }, args.toArray());
        if (!deliveries.isEmpty()) {
            String ids = "{" + String.join(",", deliveries.keySet().stream().map(UUID::toString).toList()) + "}";
            jdbc.query("SELECT delivery_id, attempt, started_at, duration_ms, status_code, error FROM backend.webhook_attempts"
                    + " WHERE delivery_id = ANY (CAST(? AS UUID[])) ORDER BY delivery_id, attempt", rs -> {
                        int status = rs.getInt(5);
                        Integer statusCode = rs.wasNull() ? null : status;
                        deliveries.get(rs.getObject(1, UUID.class)).attemptLog().add(new Attempt(rs.getInt(2),
                                rs.getTimestamp(3).toInstant(), rs.getLong(4), statusCode, rs.getString(6)));
                    }, ids);
        }
        return List.copyOf(deliveries.values());
    }

    /** Where a page ends: its last delivery's creation time and id. */
    public record Cursor(Instant createdAt, UUID id) {
        public String encode() {
            return createdAt.getEpochSecond() + "." + createdAt.getNano() + "." + id;
        }

        public static Optional<Cursor> decode(String text) {
            if (text == null || text.isEmpty()) {
                return Optional.empty();
            }
            String[] parts = text.split("\\.", 3);
            if (parts.length != 3 || !parts[0].matches("[0-9]{1,12}") || !parts[1].matches("[0-9]{1,9}")
                    || !parts[2].matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")) {
                throw new IllegalArgumentException("not a delivery cursor");
            }
            return Optional.of(new Cursor(Instant.ofEpochSecond(Long.parseLong(parts[0]), Long.parseLong(parts[1])),
                    UUID.fromString(parts[2])));
        }
    }
}
