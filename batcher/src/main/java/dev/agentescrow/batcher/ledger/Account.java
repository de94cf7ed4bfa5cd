package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.ledger.db.AccountRow;
import java.math.BigInteger;
import java.time.Instant;

/** The writer's in-memory copy of one account's totals. Only the writer thread touches it. */
final class Account {
    final long id;
    final AccountKey key;
    final Instant createdAt;
    BigInteger debitsPosted;
    BigInteger creditsPosted;
    BigInteger debitsPending;
    BigInteger creditsPending;

    Account(AccountRow row) {
        this.id = row.id();
        this.key = row.key();
        this.createdAt = row.createdAt();
        this.debitsPosted = row.debitsPosted();
        this.creditsPosted = row.creditsPosted();
        this.debitsPending = row.debitsPending();
        this.creditsPending = row.creditsPending();
    }

    Account(long id, AccountKey key, Instant createdAt) {
        this(new AccountRow(id, key, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, createdAt));
    }

    /** What can be spent now: posted credits minus posted and pending debits. */
    BigInteger available() {
        return creditsPosted.subtract(debitsPosted).subtract(debitsPending);
    }

    boolean canSpend(BigInteger amount) {
        return key.kind().mayGoNegative() || available().compareTo(amount) >= 0;
    }

    AccountRow toRow() {
        return new AccountRow(id, key, debitsPosted, creditsPosted, debitsPending, creditsPending, createdAt);
    }

    /** A copy of the totals to restore on undo. */
    Totals totals() {
        return new Totals(debitsPosted, creditsPosted, debitsPending, creditsPending);
    }

    void restore(Totals totals) {
        debitsPosted = totals.debitsPosted();
        creditsPosted = totals.creditsPosted();
        debitsPending = totals.debitsPending();
        creditsPending = totals.creditsPending();
    }

    record Totals(BigInteger debitsPosted, BigInteger creditsPosted, BigInteger debitsPending,
            BigInteger creditsPending) {
    }
}
