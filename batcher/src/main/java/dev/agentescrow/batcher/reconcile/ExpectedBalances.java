package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
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

    /**
     * {@link #expectedSettled(Address)} for a comparison with the vault's state at {@code atBlock}:
     * expectations read from the chain count its events up to that block only (the default, for
     * expectations that read no chain, is the same as without it).
     */
    default Map<Address, BigInteger> expectedSettled(Address token, long atBlock) {
        return expectedSettled(token);
    }

    /** Disagreements the ledger shows by itself, e.g. a transfer settled by two batches (F2). */
    default List<Mismatch> ledgerMismatches(Address token) {
        return List.of();
    }

    /** Movements of {@code token} taken out of settlement (quarantined), counted in every report. */
    default long quarantined(Address token) {
        return 0;
    }

    /**
     * These expectations plus {@code inFlight}'s, address by address: for custody changes that are
     * on chain but not in the ledger yet (a deposit waiting for its confirmations), so that they
     * are not reported as mismatches.
     */
    default ExpectedBalances plus(ExpectedBalances inFlight) {
        ExpectedBalances self = this;
        return new ExpectedBalances() {
            @Override
            public Map<Address, BigInteger> expectedSettled(Address token) {
                return sum(self.expectedSettled(token), inFlight.expectedSettled(token));
            }

            @Override
            public Map<Address, BigInteger> expectedSettled(Address token, long atBlock) {
                return sum(self.expectedSettled(token, atBlock), inFlight.expectedSettled(token, atBlock));
            }

            private static Map<Address, BigInteger> sum(Map<Address, BigInteger> a, Map<Address, BigInteger> b) {
                Map<Address, BigInteger> sum = new HashMap<>(a);
                b.forEach((address, delta) -> sum.merge(address, delta, BigInteger::add));
                return sum;
            }

            @Override
            public List<Mismatch> ledgerMismatches(Address token) {
                return self.ledgerMismatches(token);
            }

            @Override
            public long quarantined(Address token) {
                return self.quarantined(token);
            }
        };
    }
}
