package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.List;

/** One disagreement found by the {@link Reconciler}; reported, never corrected. */
public sealed interface Mismatch {
    Address token();

    /**
     * The vault holds less of the token than it accounts for ({@code balanceOf(vault) < custody(token)}):
     * tokens left without a vault event (a rebasing or fee-taking token, a bug). More is a surplus.
     */
    record Custody(Address token, BigInteger vaultTokenBalance, BigInteger custody) implements Mismatch {
    }

    /**
     * The vault's own books disagree: its accounted {@code custody(token)} differs from the sum of its
     * settled balances and pending payouts (capped credits and deferred payouts alike).
     */
    record VaultBooks(Address token, BigInteger custody, BigInteger settledPlusPendingPayouts) implements Mismatch {
    }

    /**
     * One ledger transfer is a movement of more than one confirmed batch: the vault applied it
     * more than once (F2). Reported even when balances happen to agree.
     */
    record DoubleSettlement(Address token, String transferId, List<Long> batchIds) implements Mismatch {
        public DoubleSettlement {
            batchIds = List.copyOf(batchIds);
        }
    }

    /** An account's settled balance on chain differs from what the ledger expects. */
    record Account(Address token, Address account, BigInteger onChain, BigInteger expected) implements Mismatch {
    }
}
