package dev.agentescrow.batcher.ledger;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Comparator;

/** A pending transfer not yet posted, voided or expired, as the writer keeps it in memory. */
record OpenPending(TransferId id, Account debit, Account credit, BigInteger amount, Instant expiresAt) {
    /** Earliest expiry first; ties by id. */
    static final Comparator<OpenPending> BY_EXPIRY =
            Comparator.comparing(OpenPending::expiresAt).thenComparing(OpenPending::id);
}
