package dev.agentescrow.backend.common.db;

/**
 * Bookkeeping a request writes <em>before</em> its ledger write commits (the Idempotency-Key claim,
 * the day's amount reservation and its give-back) commits without waiting for its own WAL flush,
 * and is durable all the same once the request is acknowledged: PostgreSQL's WAL is one sequence,
 * the statement's commit record precedes the ledger's group commit, and the ledger's commit (which
 * is synchronous: a write is acknowledged only after it) flushes the WAL up to its own record, so
 * everything before it too. If the database stops before that flush, both are lost together: no
 * acknowledged transfer ever lacks its claim or its reservation. What the request writes after the
 * ledger (the stored response) keeps the pool's {@code synchronous_commit = on}.
 *
 * <p>Why it matters: each of these statements waited for an fsync of its own (2-3 ms on this
 * machine's disk), and the reservation held its account's {@code daily_amounts} row lock for that
 * time, so one account's payments queued behind each other's flushes (sampled under load:
 * {@code WALWrite}/{@code WalSync} and {@code Lock:transactionid} waits on these statements).
 *
 * <p>The setting is made inside the statement ({@code set_config(..., true)}: local to its
 * transaction, which in auto-commit is the statement alone, and in effect when it commits): one
 * round trip, no session state changed.
 */
public final class AheadOfTheLedger {
    /**
     * A FROM item ({@code INSERT ... SELECT ... FROM}, {@code UPDATE ... FROM}): one row, evaluated
     * once, and this transaction's commit does not wait for its WAL flush.
     */
    public static final String ASYNC_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit";

    private AheadOfTheLedger() {
    }
}
