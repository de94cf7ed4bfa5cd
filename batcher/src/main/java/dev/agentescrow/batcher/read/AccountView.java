package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.ledger.AccountKey;
import java.math.BigInteger;
import java.util.Objects;

/**
 * One account's amounts, all in base units, as of the read's position.
 *
 * @param posted            credits minus debits that are posted: what the account holds
 * @param held              held by its outgoing pending transfers (not spendable)
 * @param incoming          on its way in by incoming pending transfers (not yet spendable)
 * @param pendingWithdrawal withdrawn (already debited from {@code posted}) and not yet paid out on
 *                          chain by a settled batch; zero for accounts that are not a user's
 */
public record AccountView(AccountKey key, BigInteger posted, BigInteger held, BigInteger incoming,
                          BigInteger pendingWithdrawal) {
    public AccountView {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(posted, "posted");
        Objects.requireNonNull(held, "held");
        Objects.requireNonNull(incoming, "incoming");
        Objects.requireNonNull(pendingWithdrawal, "pendingWithdrawal");
    }

    /** What can be spent now: posted minus held. */
    public BigInteger available() {
        return posted.subtract(held);
    }
}
