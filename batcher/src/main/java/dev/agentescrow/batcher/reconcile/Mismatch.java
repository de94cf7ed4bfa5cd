package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;

/** One disagreement found by the {@link Reconciler}; reported, never corrected. */
public sealed interface Mismatch {
    Address token();

    /** The vault's token balance differs from its settled balances plus its pending payouts. */
    record Custody(Address token, BigInteger vaultTokenBalance, BigInteger settledPlusPendingPayouts)
            implements Mismatch {
    }

    /** An account's settled balance on chain differs from what the ledger expects. */
    record Account(Address token, Address account, BigInteger onChain, BigInteger expected) implements Mismatch {
    }
}
