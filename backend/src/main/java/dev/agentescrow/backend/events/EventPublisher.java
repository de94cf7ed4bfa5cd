package dev.agentescrow.backend.events;

import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import tools.jackson.databind.json.JsonMapper;

/**
 * How a feature tells agents that something happened: one row in the outbox, written in the
 * caller's transaction (Spring's JDBC transaction on the service's DataSource, or on its own when
 * there is none), so the event exists exactly when the state change does. Nothing is sent here:
 * the sequencer and the webhook workers take it from the outbox after the commit, so publishing
 * never waits on a network.
 *
 * <pre>{@code
 * events.publish(EventType.ESCROW_RELEASED, List.of(payer, payee), escrowId,
 *         Map.of("escrowId", escrowId, "payee", payee.checksummed(), "amount", amount.toString()));
 * }</pre>
 *
 * Amounts in {@code data} are decimal strings, addresses EIP-55 ({@link Address#checksummed()}).
 */
@Component
public class EventPublisher {
    /** The largest {@code data} (its JSON) an event may carry. */
    public static final int MAX_DATA_BYTES = 16 * 1024;
    /** The most recipients of one event. */
    public static final int MAX_RECIPIENTS = 32;
    static final JsonMapper JSON = JsonMapper.builder().build();

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final EventSignal signal;

    public EventPublisher(JdbcTemplate jdbc, Clock clock, EventSignal signal) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.signal = signal;
    }

    /**
     * Publishes an event to {@code recipients} (each sees it in its feed and at its webhooks) about
     * {@code objectId} (the escrow's, transfer's or withdrawal's id).
     *
     * @return the event's id (unique; the {@code id} receivers deduplicate on)
     */
    public UUID publish(EventType type, Collection<Address> recipients, String objectId, Map<String, ?> data) {
        return insert(type, recipients, objectId, data, null);
    }

    /**
     * As {@link #publish}, at most once per {@code dedupeKey} (a natural key of the fact, such as
     * {@code "escrow.released:<escrow id>:<action id>"}): a second publication with the same key
     * writes nothing and returns the first event's id.
     */
    public UUID publishOnce(String dedupeKey, EventType type, Collection<Address> recipients, String objectId,
                            Map<String, ?> data) {
        requireDedupeKey(dedupeKey);
        return insert(type, recipients, objectId, data, dedupeKey);
    }

    /** One event of {@link #publishAllOnce}: the arguments of {@link #publishOnce}. */
    public record Publication(String dedupeKey, EventType type, Collection<Address> recipients, String objectId,
                              Map<String, ?> data) {
    }

    /**
     * As {@link #publishOnce} for each of {@code events}, in one JDBC batch (one round trip instead
     * of one per event: a settled batch publishes one event per movement, hundreds at once, and
     * each round trip took a core from the payments being served meanwhile). Returns how many
     * were new.
     */
    public int publishAllOnce(List<Publication> events) {
        if (events.isEmpty()) {
            return 0;
        }
        Timestamp now = Timestamp.from(clock.instant());
        List<Object[]> rows = new ArrayList<>(events.size());
        for (Publication event : events) {
            requireDedupeKey(event.dedupeKey());
            rows.add(row(UUID.randomUUID(), event.type(), event.recipients(), event.objectId(), event.data(),
                    event.dedupeKey(), now));
        }
        int[] counts = jdbc.batchUpdate("""
                INSERT INTO backend.events (id, type, object_id, recipients, data, dedupe_key, created_at)
                VALUES (?, ?, ?, CAST(? AS CHAR(42)[]), ?, ?, ?)
                ON CONFLICT (dedupe_key) DO NOTHING""", rows);
        int inserted = 0;
        for (int count : counts) {
            // the driver may answer SUCCESS_NO_INFO (-2) for a batched statement: counted as written
            inserted += count == java.sql.Statement.SUCCESS_NO_INFO ? 1 : count;
        }
        if (inserted > 0) {
            wakeAfterCommit();
        }
        return inserted;
    }

    private static void requireDedupeKey(String dedupeKey) {
        Objects.requireNonNull(dedupeKey, "dedupeKey");
        if (dedupeKey.isEmpty() || dedupeKey.length() > 200) {
            throw new IllegalArgumentException("a dedupe key has 1 to 200 characters");
        }
    }

    /** The checked parameters of one events row (id, type, object id, recipients, data, dedupe key, time). */
    private static Object[] row(UUID id, EventType type, Collection<Address> recipients, String objectId,
                                Map<String, ?> data, String dedupeKey, Timestamp at) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(objectId, "objectId");
        Objects.requireNonNull(data, "data");
        Set<String> to = new LinkedHashSet<>();
        recipients.forEach(r -> to.add(r.hex()));
        if (to.isEmpty() || to.size() > MAX_RECIPIENTS) {
            throw new IllegalArgumentException("an event has 1 to " + MAX_RECIPIENTS + " recipients: " + to.size());
        }
        if (objectId.isEmpty() || objectId.length() > 128) {
            throw new IllegalArgumentException("an object id has 1 to 128 characters");
        }
        String json = JSON.writeValueAsString(data);
        if (json.getBytes(StandardCharsets.UTF_8).length > MAX_DATA_BYTES) {
            throw new IllegalArgumentException("event data over " + MAX_DATA_BYTES + " bytes");
        }
        return new Object[] {id, type.wireName(), objectId, "{" + String.join(",", to) + "}", json, dedupeKey, at};
    }

    private UUID insert(EventType type, Collection<Address> recipients, String objectId, Map<String, ?> data,
                        String dedupeKey) {
        Object[] row = row(UUID.randomUUID(), type, recipients, objectId, data, dedupeKey, Timestamp.from(clock.instant()));
        java.util.List<UUID> stored = jdbc.queryForList("""
                WITH inserted AS (
                    INSERT INTO backend.events (id, type, object_id, recipients, data, dedupe_key, created_at)
                    VALUES (?, ?, ?, CAST(? AS CHAR(42)[]), ?, ?, ?)
                    ON CONFLICT (dedupe_key) DO NOTHING RETURNING id)
                SELECT id FROM inserted UNION ALL SELECT id FROM backend.events WHERE dedupe_key = ? LIMIT 1""",
                UUID.class, row[0], row[1], row[2], row[3], row[4], row[5], row[6], dedupeKey);
        if (stored.isEmpty()) {
            // a concurrent publication of the same key committed after this statement's snapshot
            return jdbc.queryForObject("SELECT id FROM backend.events WHERE dedupe_key = ?", UUID.class, dedupeKey);
        }
        wakeAfterCommit();
        return stored.getFirst();
    }

    private void wakeAfterCommit() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    signal.published();
                }
            });
        } else {
            signal.published();
        }
    }
}
