package dev.agentescrow.backend.events;

import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * A principal's events in sequence order, as {@code GET /events}, the SSE stream and webhooks show
 * them. {@link #body} is the exact JSON a webhook receives (and the SSE {@code data}).
 */
@Component
public class EventFeed {
    /** The largest page. */
    public static final int MAX_PAGE = 500;

    private final JdbcTemplate jdbc;

    public EventFeed(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * One published event.
     *
     * @param sequence its place in every feed (SSE {@code id}, the cursor of {@code GET /events})
     */
    public record Event(UUID id, long sequence, String type, String objectId, Instant createdAt, String data) {

        /** The JSON body: {@code {"id","type","sequence","objectId","createdAt","data"}}. */
        public byte[] body() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", id.toString());
            body.put("type", type);
            body.put("sequence", sequence);
            body.put("objectId", objectId);
            body.put("createdAt", createdAt.toString());
            body.put("data", EventPublisher.JSON.readTree(data));
            return EventPublisher.JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
        }

        public JsonNode dataJson() {
            return EventPublisher.JSON.readTree(data);
        }
    }

    /** {@code recipient}'s events with a sequence above {@code afterSequence}, oldest first, at most {@code limit}. */
    public List<Event> after(Address recipient, long afterSequence, int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be in [1, " + MAX_PAGE + "]");
        }
        return jdbc.query("""
                SELECT e.id, f.sequence, e.type, e.object_id, e.created_at, e.data
                FROM backend.event_feed f JOIN backend.events e ON e.id = f.event_id
                WHERE f.recipient = ? AND f.sequence > ? ORDER BY f.sequence LIMIT ?""",
                (rs, n) -> new Event(rs.getObject(1, UUID.class), rs.getLong(2), rs.getString(3), rs.getString(4),
                        rs.getTimestamp(5).toInstant(), rs.getString(6)), recipient.hex(), afterSequence, limit);
    }

    /** A sequenced event by id (for deliveries). */
    public java.util.Optional<Event> find(UUID id) {
        return jdbc.query("SELECT id, sequence, type, object_id, created_at, data FROM backend.events"
                        + " WHERE id = ? AND sequence IS NOT NULL",
                (rs, n) -> new Event(rs.getObject(1, UUID.class), rs.getLong(2), rs.getString(3), rs.getString(4),
                        rs.getTimestamp(5).toInstant(), rs.getString(6)), id).stream().findFirst();
    }
}
