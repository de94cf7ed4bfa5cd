package dev.agentescrow.backend.events;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.chain.Address;
import java.sql.Connection;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link EventRetention}: events past the retention leave with their feed rows and finished
 * deliveries (and attempts), an event with a pending delivery stays until it finishes, newer events
 * stay, nothing is left dangling, and a principal's {@code GET /events} shows what is left.
 */
class EventRetentionIT extends BackendITSupport {
    private static final Duration RETENTION = Duration.ofDays(30);

    @Autowired
    EventPublisher publisher;
    @Autowired
    EventRetention retention;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    DataSource dataSource;
    @Autowired
    TransactionTemplate transactions;

    @Test
    void old_events_leave_with_their_feed_and_finished_deliveries_and_a_pending_delivery_keeps_its_event() {
        String key = freshPrivateKey();
        String token = loginWith(key);
        Address owner = Address.of(addressOf(key));
        Address other = Address.of(addressOf(freshPrivateKey()));
        String run = UUID.randomUUID().toString();
        UUID plain = publish(run, "plain", owner, other);
        UUID delivered = publish(run, "delivered", owner, other);
        UUID pending = publish(run, "pending", owner, other);
        UUID recent = publish(run, "recent", owner, other);
        String all = ids(plain, delivered, pending, recent);
        awaitUntil("the four events sequenced", () -> count(
                "SELECT count(*) FROM backend.events WHERE id = ANY (CAST(? AS UUID[])) AND sequence IS NOT NULL", all) == 4);
        // One endpoint of the owner: a delivery that finished (with its attempt) and one still pending,
        // due tomorrow so that no worker tries it during the test.
        UUID endpoint = UUID.randomUUID();
        jdbc.update("INSERT INTO backend.webhook_endpoints (id, owner, url, secret, created_at)"
                + " VALUES (?, ?, 'https://receiver.example/hook', 'whsec_test', now())", endpoint, owner.hex());
        UUID finishedDelivery = UUID.randomUUID();
        jdbc.update("INSERT INTO backend.webhook_deliveries (id, endpoint_id, event_id, state, attempts, next_attempt_at,"
                + " created_at, completed_at) VALUES (?, ?, ?, 'DELIVERED', 1, now(), now(), now())",
                finishedDelivery, endpoint, delivered);
        jdbc.update("INSERT INTO backend.webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code)"
                + " VALUES (?, 1, now(), 12, 200)", finishedDelivery);
        UUID pendingDelivery = UUID.randomUUID();
        jdbc.update("INSERT INTO backend.webhook_deliveries (id, endpoint_id, event_id, state, attempts, next_attempt_at,"
                + " created_at) VALUES (?, ?, ?, 'PENDING', 0, ?, now())",
                pendingDelivery, endpoint, pending, Timestamp.from(Instant.now().plus(Duration.ofDays(1))));
        // three of them were published 40 days ago: before every other event in the database
        jdbc.update("UPDATE backend.events SET created_at = created_at - INTERVAL '40 days', inserted = inserted - 1000000000000"
                + " WHERE id = ANY (CAST(? AS UUID[]))", ids(plain, delivered, pending));
        assertThat(listed(token)).containsExactly(plain, delivered, pending, recent);

        assertThat(retention.deleteOlderThan(Instant.now().minus(RETENTION))).isEqualTo(2);

        assertThat(count("SELECT count(*) FROM backend.events WHERE id = ANY (CAST(? AS UUID[]))", ids(plain, delivered)))
                .isZero();
        assertThat(count("SELECT count(*) FROM backend.event_feed WHERE event_id = ANY (CAST(? AS UUID[]))",
                ids(plain, delivered))).isZero();
        assertThat(count("SELECT count(*) FROM backend.event_feed WHERE event_id = ANY (CAST(? AS UUID[]))",
                ids(pending, recent))).as("both recipients of the two kept").isEqualTo(4);
        assertThat(count("SELECT count(*) FROM backend.webhook_deliveries WHERE id = ANY (CAST(? AS UUID[]))",
                ids(finishedDelivery))).isZero();
        assertThat(count("SELECT count(*) FROM backend.webhook_attempts WHERE delivery_id = ANY (CAST(? AS UUID[]))",
                ids(finishedDelivery))).isZero();
        assertThat(count("SELECT count(*) FROM backend.webhook_deliveries WHERE id = ANY (CAST(? AS UUID[]))",
                ids(pendingDelivery))).isEqualTo(1);
        assertThat(listed(token)).containsExactly(pending, recent);
        assertThat(dangling()).isZero();
        assertThat(retention.deleteOlderThan(Instant.now().minus(RETENTION))).as("a second run").isZero();

        // the pending delivery ends (its attempts ran out): its event goes at the next run
        jdbc.update("UPDATE backend.webhook_deliveries SET state = 'FAILED', completed_at = now() WHERE id = ?", pendingDelivery);
        assertThat(retention.deleteOlderThan(Instant.now().minus(RETENTION))).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM backend.webhook_deliveries WHERE endpoint_id = ?", endpoint)).isZero();
        assertThat(listed(token)).containsExactly(recent);
        assertThat(dangling()).isZero();
        assertThat(count("SELECT count(*) FROM backend.events WHERE id = ?", recent)).isEqualTo(1);
    }

    @Test
    void an_old_event_waits_for_its_sequence_and_a_backlog_longer_than_a_step_goes_in_one_run() throws Exception {
        Address a = Address.of(addressOf(freshPrivateKey()));
        Address b = Address.of(addressOf(freshPrivateKey()));
        String run = UUID.randomUUID().toString();
        UUID unsequenced;
        // the sequencer's lock held by the test: what is published now stays unsequenced
        try (Connection held = dataSource.getConnection(); Statement statement = held.createStatement()) {
            statement.execute("SELECT pg_advisory_lock(" + EventSequencer.LOCK_KEY + ")");
            unsequenced = publish(run, "unsequenced", a, b);
            jdbc.update("UPDATE backend.events SET created_at = created_at - INTERVAL '40 days', inserted = inserted - 2000000000000"
                    + " WHERE id = ?", unsequenced);
            assertThat(retention.deleteOlderThan(Instant.now().minus(RETENTION))).isZero();
            assertThat(count("SELECT count(*) FROM backend.events WHERE id = ?", unsequenced)).isEqualTo(1);
            statement.execute("SELECT pg_advisory_unlock(" + EventSequencer.LOCK_KEY + ")");
        }
        List<EventPublisher.Publication> backlog = new ArrayList<>();
        int size = EventRetention.STEP_SIZE + EventRetention.STEP_SIZE / 4;
        for (int i = 0; i < size; i++) {
            backlog.add(new EventPublisher.Publication("retention-test:" + run + ":" + i, EventType.TRANSFER_SETTLED,
                    List.of(a, b), "object-" + i, Map.of("id", Integer.toString(i))));
        }
        transactions.executeWithoutResult(status -> publisher.publishAllOnce(backlog));
        awaitUntil("the backlog and the held event sequenced", () -> count("SELECT count(*) FROM backend.events"
                + " WHERE dedupe_key LIKE ? AND sequence IS NOT NULL", "retention-test:" + run + ":%") == size + 1);
        jdbc.update("UPDATE backend.events SET created_at = created_at - INTERVAL '40 days', inserted = inserted - 2000000000000"
                + " WHERE dedupe_key LIKE ? AND id <> ?", "retention-test:" + run + ":%", unsequenced);

        assertThat(retention.deleteOlderThan(Instant.now().minus(RETENTION))).isEqualTo(size + 1);
        assertThat(count("SELECT count(*) FROM backend.events WHERE dedupe_key LIKE ?", "retention-test:" + run + ":%")).isZero();
        assertThat(count("SELECT count(*) FROM backend.event_feed WHERE recipient = ANY (CAST(? AS CHAR(42)[]))",
                "{" + a.hex() + "," + b.hex() + "}")).isZero();
        assertThat(dangling()).isZero();
    }

    private UUID publish(String run, String name, Address owner, Address other) {
        return publisher.publishOnce("retention-test:" + run + ":" + name, EventType.TRANSFER_SETTLED, List.of(owner, other),
                name, Map.of("id", name));
    }

    private List<UUID> listed(String token) {
        return api().get("/api/v1/events?limit=100", token).json().path("items").valueStream()
                .map(e -> UUID.fromString(e.path("id").asString())).toList();
    }

    /** Feed rows whose event is gone, anywhere in the database. */
    private long dangling() {
        return count("SELECT count(*) FROM backend.event_feed f WHERE NOT EXISTS"
                + " (SELECT 1 FROM backend.events e WHERE e.id = f.event_id)");
    }

    private long count(String sql, Object... args) {
        Long n = jdbc.queryForObject(sql, Long.class, args);
        return n == null ? 0 : n;
    }

    private static String ids(UUID... ids) {
        return "{" + String.join(",", java.util.Arrays.stream(ids).map(UUID::toString).toList()) + "}";
    }
}
