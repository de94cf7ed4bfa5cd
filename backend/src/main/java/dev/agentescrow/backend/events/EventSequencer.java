package dev.agentescrow.backend.events;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Publishes committed outbox rows in order: gives each a sequence, adds it to its recipients'
 * feeds and creates a delivery for every matching webhook endpoint of theirs — one transaction per
 * step, under a transaction-scoped advisory lock, so at most one instance sequences at a time and a
 * reader that saw sequence {@code n} never later finds a committed event below {@code n} it missed
 * (sequences are assigned only to committed rows, and only by the one lock holder).
 */
@Component
public class EventSequencer {
    /** Outbox rows sequenced per step. */
    static final int STEP_SIZE = 500;
    /** The advisory lock key of the sequencer ("events" in ASCII). */
    static final long LOCK_KEY = 0x6576656e7473L;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final EventSignal signal;

    public EventSequencer(JdbcTemplate jdbc, TransactionTemplate transactions, Clock clock, EventSignal signal) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.clock = clock;
        this.signal = signal;
    }

    /** Sequences what is waiting, step by step; returns how many events it published. */
    public int sequencePending() {
        int total = 0;
        while (true) {
            Integer step = transactions.execute(status -> step());
            int done = step == null ? 0 : step;
            total += done;
            if (done < STEP_SIZE) {
                break;
            }
        }
        if (total > 0) {
            signal.sequenced();
        }
        return total;
    }

    private int step() {
        Boolean locked = jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, LOCK_KEY);
        if (!Boolean.TRUE.equals(locked)) {
            return 0;
        }
        List<UUID> ids = jdbc.queryForList("""
                UPDATE backend.events e SET sequence = s.sequence
                FROM (SELECT id, nextval('backend.event_sequence') AS sequence FROM
                      (SELECT id, inserted FROM backend.events WHERE sequence IS NULL ORDER BY inserted LIMIT ?) x
                      ORDER BY inserted) s
                WHERE e.id = s.id RETURNING e.id""", UUID.class, STEP_SIZE);
        if (ids.isEmpty()) {
            return 0;
        }
        String array = "{" + String.join(",", ids.stream().map(UUID::toString).toList()) + "}";
        jdbc.update("""
                INSERT INTO backend.event_feed (recipient, sequence, event_id)
                SELECT r, e.sequence, e.id FROM backend.events e, unnest(e.recipients) AS r
                WHERE e.id = ANY (CAST(? AS UUID[]))""", array);
        jdbc.update("""
                INSERT INTO backend.webhook_deliveries (id, endpoint_id, event_id, state, next_attempt_at, created_at)
                SELECT gen_random_uuid(), w.id, e.id, 'PENDING', ?, ?
                FROM backend.events e JOIN backend.webhook_endpoints w
                  ON w.owner = ANY (e.recipients) AND w.deleted_at IS NULL AND (w.types IS NULL OR e.type = ANY (w.types))
                WHERE e.id = ANY (CAST(? AS UUID[]))
                ON CONFLICT (endpoint_id, event_id) DO NOTHING""",
                Timestamp.from(clock.instant()), Timestamp.from(clock.instant()), array);
        return ids.size();
    }
}
