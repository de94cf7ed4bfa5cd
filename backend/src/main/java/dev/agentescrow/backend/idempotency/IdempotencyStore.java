package dev.agentescrow.backend.idempotency;

import dev.agentescrow.backend.common.db.AheadOfTheLedger;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Idempotency-Key records in PostgreSQL, so that every instance sees them: a request claims its
 * (principal, key) first; the first response is stored when it completes. Records are kept
 * {@link #RETENTION} (at least 24 h).
 */
@Component
public class IdempotencyStore {
    /** How long a completed key answers with its first response. */
    public static final Duration RETENTION = Duration.ofHours(25);
    /** A claim older than this with no response is taken to be from a process that died, and may be taken over. */
    public static final Duration ABANDONED_AFTER = Duration.ofMinutes(5);

    private final JdbcTemplate jdbc;
    private final Clock clock;

    public IdempotencyStore(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    public enum State { IN_FLIGHT, DONE }

    public record Record(String requestHash, State state, Integer status, String contentType, byte[] body,
                         Instant createdAt) {
    }

    /**
     * Claims the key for a new request: true if it was free. Committed ahead of the request's
     * writes without a WAL flush of its own ({@link AheadOfTheLedger}): the ledger's commit, or the
     * stored response's ({@link #complete}, synchronous), flushes it before the answer leaves.
     */
    public boolean claim(String principal, String key, String requestHash) {
        return jdbc.update("INSERT INTO backend.idempotency_keys (principal, idempotency_key, request_hash, state, created_at)"
                + " SELECT CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), 'IN_FLIGHT', CAST(? AS TIMESTAMPTZ)"
                + " FROM " + AheadOfTheLedger.ASYNC_COMMIT + " ON CONFLICT DO NOTHING",
                principal, key, requestHash, Timestamp.from(clock.instant())) == 1;
    }

    /** Takes over a claim abandoned by a process that died mid-request (same body only). */
    public boolean takeOver(String principal, String key, String requestHash) {
        Instant now = clock.instant();
        return jdbc.update("UPDATE backend.idempotency_keys SET created_at = ? WHERE principal = ? AND idempotency_key = ?"
                + " AND request_hash = ? AND state = 'IN_FLIGHT' AND created_at < ?", Timestamp.from(now), principal, key,
                requestHash, Timestamp.from(now.minus(ABANDONED_AFTER))) == 1;
    }

    public Optional<Record> find(String principal, String key) {
        List<Record> found = jdbc.query("SELECT request_hash, state, status, content_type, body, created_at"
                + " FROM backend.idempotency_keys WHERE principal = ? AND idempotency_key = ?", (rs, n) -> new Record(
                rs.getString(1), State.valueOf(rs.getString(2)), (Integer) rs.getObject(3), rs.getString(4),
                rs.getBytes(5), rs.getTimestamp(6).toInstant()), principal, key);
        return found.stream().findFirst();
    }

    /** Stores the first response, synchronously: after any crash a replay finds it. */
    public void complete(String principal, String key, int status, String contentType, byte[] body) {
        complete(principal, key, status, contentType, body, "");
    }

    /**
     * Stores the first response of a request whose ledger writes make it re-derivable, without
     * waiting for its own WAL flush: its ledger ids derive from the key, so if a crash loses this
     * record the claim stays IN_FLIGHT (flushed by the ledger's commit), a replay is 409 until the
     * claim is taken over ({@link #ABANDONED_AFTER}), and then runs again: the ledger answers the
     * committed transfers (EXISTS) and the same response is stored, with nothing written twice.
     * The next synchronous commit of any session, or PostgreSQL's WAL writer within 200 ms,
     * flushes it in the usual case.
     */
    public void completeRederivable(String principal, String key, int status, String contentType, byte[] body) {
        complete(principal, key, status, contentType, body, " FROM " + AheadOfTheLedger.ASYNC_COMMIT);
    }

    private void complete(String principal, String key, int status, String contentType, byte[] body, String from) {
        jdbc.update("UPDATE backend.idempotency_keys SET state = 'DONE', status = ?, content_type = ?, body = ?,"
                + " completed_at = ?" + from + " WHERE principal = ? AND idempotency_key = ? AND state = 'IN_FLIGHT'",
                status, contentType, body, Timestamp.from(clock.instant()), principal, key);
    }

    /** Frees the key after a response that must not be replayed (a failure the client may retry). */
    public void release(String principal, String key) {
        jdbc.update("DELETE FROM backend.idempotency_keys WHERE principal = ? AND idempotency_key = ? AND state = 'IN_FLIGHT'",
                principal, key);
    }

    @Scheduled(fixedDelayString = "PT10M")
    public void purge() {
        jdbc.update("DELETE FROM backend.idempotency_keys WHERE created_at < ?",
                Timestamp.from(clock.instant().minus(RETENTION)));
    }
}
