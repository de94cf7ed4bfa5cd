package dev.agentescrow.backend.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Deletes events older than {@link EventsProperties#retention()} with their feed rows and their
 * finished webhook deliveries (and those deliveries' attempts), oldest first, a step of at most
 * {@link #STEP_SIZE} events per transaction, under a transaction-scoped advisory lock (one instance
 * at a time). An event is kept while it is not sequenced yet or one of its deliveries is still
 * PENDING, however old: a receiver is never left with a delivery whose event is gone.
 *
 * <p>What a receiver sees: an event past the retention leaves {@code GET /events}, the SSE stream
 * and the delivery log; a client resuming after a sequence older than that gets what is left (gaps
 * in sequences are normal). A feature that publishes with a natural key ({@code publishOnce})
 * after the retention deleted that key's event publishes it again; every publisher does so within
 * minutes of the fact, far inside the retention.
 */
@Component
public class EventRetention {
    private static final Logger log = LoggerFactory.getLogger(EventRetention.class);

    /** Events looked at (and at most deleted) per step. */
    static final int STEP_SIZE = 2_000;
    /** The advisory lock key of the retention ("retain" in ASCII). */
    static final long LOCK_KEY = 0x72657461696eL;
    /** The longest one run deletes before it leaves the rest to the next. */
    static final Duration RUN_BUDGET = Duration.ofSeconds(20);

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final Duration retention;
    private final Counter deleted;

    public EventRetention(JdbcTemplate jdbc, TransactionTemplate transactions, Clock clock, EventsProperties properties,
            MeterRegistry registry) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.clock = clock;
        this.retention = properties.retention();
        this.deleted = Counter.builder("agentescrow.events.retention.deleted")
                .description("events deleted after the retention period, with their feed rows and deliveries")
                .register(registry);
    }

    @Scheduled(fixedDelayString = "${agentescrow.events.retention-interval:PT1M}", initialDelayString = "${agentescrow.events.retention-interval:PT1M}")
    public void run() {
        try {
            int count = deleteOlderThan(clock.instant().minus(retention));
            if (count > 0) {
                log.info("event retention: deleted {} events older than {}", count, retention);
            }
        } catch (RuntimeException e) {
            log.warn("event retention step failed; retrying at the next run: {}", e.toString());
        }
    }

    /**
     * Deletes the events created before {@code cutoff} that are sequenced and have no pending
     * delivery, step by step, for at most {@link #RUN_BUDGET}; returns how many it deleted.
     */
    public int deleteOlderThan(Instant cutoff) {
        long deadline = System.nanoTime() + RUN_BUDGET.toNanos();
        int total = 0;
        long after = Long.MIN_VALUE;
        while (System.nanoTime() < deadline) {
            long from = after;
            Step step = transactions.execute(status -> step(cutoff, from));
            if (!step.locked()) {
                break;
            }
            total += step.deleted();
            deleted.increment(step.deleted());
            if (step.done()) {
                break;
            }
            after = step.lastInserted();
        }
        return total;
    }

    private record Step(boolean locked, int deleted, long lastInserted, boolean done) {
    }

    private Step step(Instant cutoff, long after) {
        Boolean locked = jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, LOCK_KEY);
        if (!Boolean.TRUE.equals(locked)) {
            return new Step(false, 0, after, true);
        }
        // Oldest first by insertion; a row newer than the cutoff ends the run (rows are inserted
        // in time order up to a transaction's length, so what is left behind is taken next run).
        List<UUID> doomed = new ArrayList<>();
        long[] last = {after};
        boolean[] reachedNewer = {false};
        int[] scanned = {0};
        jdbc.query("""
                SELECT e.inserted, e.id, e.created_at < ? AS old,
                       e.sequence IS NOT NULL AND NOT EXISTS (SELECT 1 FROM backend.webhook_deliveries d
                                                              WHERE d.event_id = e.id AND d.state = 'PENDING') AS finished
                FROM backend.events e WHERE e.inserted > ? ORDER BY e.inserted LIMIT ?""", rs -> {
            scanned[0]++;
            if (reachedNewer[0]) {
                return;
            }
            if (!rs.getBoolean(3)) {
                reachedNewer[0] = true;
                return;
            }
            last[0] = rs.getLong(1);
            if (rs.getBoolean(4)) {
                doomed.add(rs.getObject(2, UUID.class));
            }
        }, Timestamp.from(cutoff), after, STEP_SIZE);
        boolean done = reachedNewer[0] || scanned[0] < STEP_SIZE;
        if (doomed.isEmpty()) {
            return new Step(true, 0, last[0], done);
        }
        String ids = "{" + String.join(",", doomed.stream().map(UUID::toString).toList()) + "}";
        jdbc.update("""
                DELETE FROM backend.webhook_attempts a USING backend.webhook_deliveries d
                WHERE a.delivery_id = d.id AND d.event_id = ANY (CAST(? AS UUID[])) AND d.state <> 'PENDING'""", ids);
        jdbc.update("DELETE FROM backend.webhook_deliveries WHERE event_id = ANY (CAST(? AS UUID[])) AND state <> 'PENDING'",
                ids);
        jdbc.update("""
                DELETE FROM backend.event_feed f
                USING (SELECT unnest(e.recipients) AS recipient, e.sequence FROM backend.events e
                       WHERE e.id = ANY (CAST(? AS UUID[]))) x
                WHERE f.recipient = x.recipient AND f.sequence = x.sequence""", ids);
        // The foreign key from deliveries refuses an event whose delivery is still there (one that
        // was PENDING cannot be: deliveries never return to PENDING, and only unsequenced events get new ones).
        int count = jdbc.update("DELETE FROM backend.events WHERE id = ANY (CAST(? AS UUID[])) AND sequence IS NOT NULL", ids);
        return new Step(true, count, last[0], done);
    }
}
