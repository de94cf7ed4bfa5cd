package dev.agentescrow.batcher.settlement;

/**
 * An upper bound on the gas of one {@code settleBatch} transaction, from the figures the vault
 * bounds: {@code BASE + TOKEN * tokens + ENTRY * entries + PAYOUT * payouts}. Each term is the
 * worst case of its part on the vault (docs/settlement.md, "Batch size"): an entry that writes a
 * storage slot of its own from zero, a payout whose push to a fresh recipient uses all of the
 * vault's {@code PAYOUT_GAS}, a token section with payout accounting, and the first use of a ring
 * slot for the root. {@code SettlementBatchGasIT} checks the bound against the real vault on
 * Hardhat. The planner closes a batch before its bound passes the gas budget per transaction.
 */
public final class BatchGas {
    /** Intrinsic gas, batch id and root bookkeeping (first use of a root ring slot), operator checks, event. */
    public static final long BASE = 110_000;
    /** A token section: its header, the token's slots and, with payouts, its outflow and custody accounting. */
    public static final long TOKEN = 30_000;
    /** A delta: its calldata and a balance slot written from zero (cold), when no neighbour shares the slot. */
    public static final long ENTRY = 24_000;
    /** A payout: its debit, the push to its recipient (at most the vault's PAYOUT_GAS = 100,000) and its event. */
    public static final long PAYOUT = 140_000;
    /**
     * Default budget per transaction: the submitter signs with a gas limit of the node's estimate
     * plus 20%, which must stay under the per-transaction cap of 2^24 = 16,777,216 gas (EIP-7825):
     * 13,900,000 x 1.2 = 16,680,000.
     */
    public static final long DEFAULT_MAX_GAS_PER_BATCH = 13_900_000;
    /** The bound of the largest single movement (a withdrawal: one entry, one payout, one token). */
    public static final long SINGLE_MOVEMENT = estimate(1, 1, 1);

    private BatchGas() {
    }

    /** The bound for a batch with these counts (entries include payouts, as the vault counts them). */
    public static long estimate(int entries, int payouts, int tokens) {
        if (entries < 0 || payouts < 0 || tokens < 0 || payouts > entries) {
            throw new IllegalArgumentException("invalid counts: " + entries + " entries, " + payouts + " payouts, "
                    + tokens + " tokens");
        }
        return BASE + TOKEN * tokens + ENTRY * (entries - payouts) + PAYOUT * payouts;
    }
}
