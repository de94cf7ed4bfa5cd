package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.Map;

/**
 * The ledger's side of reconciliation: per on-chain address, the settled balance the vault must
 * hold for {@code token} once every confirmed batch is applied (credited deposits, plus the net
 * of confirmed batches, minus their payouts and escape withdrawals). Addresses missing from the
 * map are expected to hold zero.
 */
@FunctionalInterface
public interface ExpectedBalances {
    Map<Address, BigInteger> expectedSettled(Address token);
}
