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
    /**
     * A delta whose balance slot is not zero before the batch: a debit (the vault refuses one
     * larger than the balance, so the slot holds at least the amount) or a credit to an account
     * whose settled balance on chain is not zero ({@link BatchPlanner.Funded}). Its write costs a
     * cold read (2,100) and a write of a non-zero slot (2,900), plus calldata and the loop
     * (measured about 3,300 per delta of funded accounts sharing slots; kept at the worst case of a
     * delta alone in its slot with margin).
     */
    public static final long FUNDED_ENTRY = 9_000;
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

    /**
     * The bound for a batch with these counts (entries include payouts, as the vault counts them),
     * every delta counted as written from zero.
     */
    public static long estimate(int entries, int payouts, int tokens) {
        return estimate(entries, entries - payouts, payouts, tokens);
    }

    /**
     * The bound for a batch with these counts, of whose deltas ({@code entries - payouts}) only
     * {@code freshDeltas} may write a balance slot from zero; the others are {@link #FUNDED_ENTRY}.
     */
    public static long estimate(int entries, int freshDeltas, int payouts, int tokens) {
        if (entries < 0 || payouts < 0 || tokens < 0 || payouts > entries || freshDeltas < 0
                || freshDeltas > entries - payouts) {
            throw new IllegalArgumentException("invalid counts: " + entries + " entries, " + freshDeltas
                    + " fresh deltas, " + payouts + " payouts, " + tokens + " tokens");
        }
        return BASE + TOKEN * tokens + ENTRY * freshDeltas + FUNDED_ENTRY * (entries - payouts - freshDeltas)
                + PAYOUT * payouts;
    }
}
