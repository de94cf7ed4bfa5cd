package dev.agentescrow.batcher.settlement;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The vault's settled balances that the submitter read, kept current with the batches it
 * confirms, so that planning a batch reads from the chain only the accounts it has not seen
 * (issue 11: reading ~1,000 balances took 1.5-2.6 s of every batch on a loaded node).
 *
 * <p>Only the operator's batches lower a settled balance (apart from an escape withdrawal, once
 * the operator has not settled for the escape delay), and they are applied here: each delta, and
 * each payout as a debit of its whole amount (the vault pays at most that). Deposits only raise a
 * balance. So a kept balance is never above the chain's, except after an escape: what it says is
 * funded is funded. It is used only for {@link BatchPlanner.Funded}, never for money. Bounded by
 * {@link #MAX_ACCOUNTS}; emptied on any doubt (a refused batch, a failed tick). Not thread-safe:
 * one submitter's tick uses it.
 */
final class SettledBalances {
    /** Most balances kept; beyond, the map is emptied and read again. */
    static final int MAX_ACCOUNTS = 100_000;

    private record Key(Address token, Address account) {
    }

    private final Map<Key, BigInteger> balances = new HashMap<>();
    /** The last batch id whose effect the kept balances include; -1 before the first sync. */
    private long currentAfter = -1;

    /**
     * Before planning: the kept balances are current after batch {@code lastConfirmedBatchId} only
     * if this submitter applied every batch up to it; otherwise (another submitter confirmed some,
     * or this one is new) they are forgotten.
     */
    void syncTo(long lastConfirmedBatchId) {
        if (currentAfter != lastConfirmedBatchId) {
            balances.clear();
            currentAfter = lastConfirmedBatchId;
        }
    }

    Optional<BigInteger> get(Address token, Address account) {
        return Optional.ofNullable(balances.get(new Key(token, account)));
    }

    /** The balance read from the chain while no batch of this submitter was open. */
    void read(Address token, Address account, BigInteger balance) {
        if (balances.size() >= MAX_ACCOUNTS) {
            balances.clear();
        }
        balances.put(new Key(token, account), balance);
    }

    /** {@code batch} was applied by the vault (confirmed once): its deltas and payouts move the kept balances. */
    void applied(SettlementBatch batch) {
        if (batch.batchId() != currentAfter + 1) {
            clear();
            currentAfter = batch.batchId();
            return;
        }
        currentAfter = batch.batchId();
        for (SettlementBatch.TokenSettlement token : batch.tokens()) {
            for (SettlementBatch.Delta delta : token.deltas()) {
                balances.computeIfPresent(new Key(token.token(), delta.account()),
                        (key, balance) -> balance.add(delta.signedDelta()).max(BigInteger.ZERO));
            }
            for (SettlementBatch.Payout payout : token.payouts()) {
                balances.computeIfPresent(new Key(token.token(), payout.account()),
                        (key, balance) -> balance.subtract(payout.amount().baseUnits()).max(BigInteger.ZERO));
            }
        }
    }

    /** Forgets every balance: the next plan reads them again. */
    void clear() {
        balances.clear();
        currentAfter = -1;
    }

    int size() {
        return balances.size();
    }
}
