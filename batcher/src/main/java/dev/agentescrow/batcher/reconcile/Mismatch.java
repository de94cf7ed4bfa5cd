package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.List;

/** One disagreement found by the {@link Reconciler}; reported, never corrected. */
public sealed interface Mismatch {
    Address token();

    /** The vault's token balance differs from its settled balances plus its pending payouts. */
    record Custody(Address token, BigInteger vaultTokenBalance, BigInteger settledPlusPendingPayouts)
            implements Mismatch {
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
