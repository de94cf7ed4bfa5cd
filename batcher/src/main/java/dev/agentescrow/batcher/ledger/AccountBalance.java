package dev.agentescrow.batcher.ledger;

import java.math.BigInteger;

/**
 * An account's committed totals, TigerBeetle style. What the account holds is
 * {@link #balance()}; what it can spend now is {@link #available()}.
 */
public record AccountBalance(
        AccountKey key,
        BigInteger debitsPosted,
        BigInteger creditsPosted,
        BigInteger debitsPending,
        BigInteger creditsPending) {

    /** Posted credits minus posted debits (negative only for CUSTODY). */
    public BigInteger balance() {
        return creditsPosted.subtract(debitsPosted);
    }

    /** {@link #balance()} minus what is held by pending debits. */
    public BigInteger available() {
        return balance().subtract(debitsPending);
    }

    /** Pending credits: on their way (e.g. a deposit waiting for its confirmation depth), not spendable yet. */
    public BigInteger incoming() {
        return creditsPending;
    }
}
