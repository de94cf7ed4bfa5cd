package dev.agentescrow.batcher.read;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.Map;

/**
 * The service's running totals for metrics, each read from one row kept by the writer in the same
 * transaction as the transfers it counts (never a scan of transfers).
 *
 * @param tokens         per token: deposits credited, withdrawals debited, payouts of settled withdrawals
 * @param settledBatches batches confirmed on chain
 */
public record ServiceTotals(Map<Address, TokenTotals> tokens, long settledBatches) {
    public ServiceTotals {
        tokens = Map.copyOf(tokens);
    }

    /** How many and how much. */
    public record Count(long count, BigInteger amount) {
        public static final Count ZERO = new Count(0, BigInteger.ZERO);
    }

    /** One token's totals; {@code withdrawals - payouts} is what waits to be paid out. */
    public record TokenTotals(Count deposits, Count withdrawals, Count payouts) {
    }
}
