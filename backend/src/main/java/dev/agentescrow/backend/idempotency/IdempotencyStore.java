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
     * The claim of a {@link PendingClaim} as a common table expression named {@code claim}, to put
     * first in the statement of a request's first write ({@code WITH <CLAIM_CTE>, ... FROM claim}):
     * one row if the key is this request's now (it was free, or its claim was abandoned by a
     * process that died: same body, in flight for longer than {@link #ABANDONED_AFTER}), none if
     * another request holds it or answered it. The statement's parameters start with
     * {@link #claimParameters}. Committed without a WAL flush of its own ({@link AheadOfTheLedger}),
     * so the ledger's commit, or the stored
     * response's ({@link #complete}, synchronous), flushes it before the answer leaves.
     */
    public static final String CLAIM_CTE = """
            claim AS (INSERT INTO backend.idempotency_keys AS k (principal, idempotency_key, request_hash, state, created_at)
            SELECT CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR), 'IN_FLIGHT', CAST(? AS TIMESTAMPTZ)
            FROM %s
            ON CONFLICT (principal, idempotency_key) DO UPDATE SET created_at = EXCLUDED.created_at
            WHERE k.state = 'IN_FLIGHT' AND k.request_hash = EXCLUDED.request_hash AND k.created_at < CAST(? AS TIMESTAMPTZ)
            RETURNING 1)""".formatted(AheadOfTheLedger.ASYNC_COMMIT);

    /** The first parameters of a statement that starts with {@link #CLAIM_CTE}. */
    public Object[] claimParameters(PendingClaim claim) {
        Instant now = clock.instant();
        return new Object[] {claim.principal(), claim.key(), claim.requestHash(), Timestamp.from(now),
                Timestamp.from(now.minus(ABANDONED_AFTER))};
    }

    /** Claims (or takes over, see {@link #CLAIM_CTE}) a pending claim in a statement of its own. */
    boolean claim(PendingClaim claim) {
        Integer claimed = jdbc.queryForObject("WITH " + CLAIM_CTE + " SELECT count(*)::int FROM claim", Integer.class,
                claimParameters(claim));
        return claimed != null && claimed == 1;
    }

    /**
     * Stores the answer of a request that never claimed its key (it ended before any write: a
     * validation error, an unknown path), synchronously, unless another request holds or answered
     * the key meanwhile: true if stored.
     */
    boolean storeUnclaimed(PendingClaim claim, int status, String contentType, byte[] body) {
        Timestamp now = Timestamp.from(clock.instant());
        return jdbc.update("INSERT INTO backend.idempotency_keys (principal, idempotency_key, request_hash, state, status,"
                + " content_type, body, created_at, completed_at) VALUES (?, ?, ?, 'DONE', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                claim.principal(), claim.key(), claim.requestHash(), status, contentType, body, now, now) == 1;
    }

    /**
     * Makes a pending claim now, in a statement of its own: for a {@link ClaimedWithFirstWrite}
     * handler about to write without having claimed yet. Throws {@link PendingClaim.KeyTakenException}
     * if another request holds the key.
     */
    public void claimNow(PendingClaim claim) {
        claim.claimedBy(claim(claim));
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

    /** Records deleted per statement by the purge. */
    public static final int PURGE_CHUNK = 5_000;

    @Scheduled(fixedDelayString = "PT10M")
    public void purge() {
        purgeBefore(clock.instant().minus(RETENTION));
    }

    /**
     * Deletes the records created before {@code cutoff}, {@link #PURGE_CHUNK} per statement (each
     * its own short transaction, by the {@code created_at} index), until none is left; returns how
     * many. One statement for all of them would delete ten minutes of payments at once (600,000
     * rows at 1,000 payments a second): one long transaction and a burst of WAL that every
     * payment's commit would queue behind.
     */
    public int purgeBefore(Instant cutoff) {
        int total = 0;
        while (true) {
            int deleted = jdbc.update("DELETE FROM backend.idempotency_keys WHERE (principal, idempotency_key) IN"
                    + " (SELECT principal, idempotency_key FROM backend.idempotency_keys WHERE created_at < ? LIMIT ?)",
                    Timestamp.from(cutoff), PURGE_CHUNK);
            total += deleted;
            if (deleted < PURGE_CHUNK) {
                return total;
            }
        }
    }
}
