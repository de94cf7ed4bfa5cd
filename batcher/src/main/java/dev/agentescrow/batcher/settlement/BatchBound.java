package dev.agentescrow.batcher.settlement;

/** Why a movement does not fit a batch: the first bound it would break. */
public enum BatchBound {
    /** Deltas plus payouts would exceed {@code SettlementBatch.MAX_ENTRIES}. */
    ENTRIES,
    /** Payouts would exceed {@code SettlementBatch.MAX_PAYOUTS}. */
    PAYOUTS,
    /** Tokens would exceed {@code SettlementBatch.MAX_TOKENS}. */
    TOKENS,
    /** An account's net delta would exceed {@code SettlementBatch.MAX_ENTRY_AMOUNT} in magnitude. */
    DELTA_AMOUNT,
    /** The batch's {@link BatchGas} bound would exceed the planner's gas budget per transaction. */
    GAS,
    /** Movements (Merkle leaves) would exceed the planner's per-batch limit. */
    MOVEMENTS
}
