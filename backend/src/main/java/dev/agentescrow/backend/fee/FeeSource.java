package dev.agentescrow.backend.fee;

/** What paid a fee, for the fee report: the payout's origin. */
public enum FeeSource {
    /** A ledger escrow created through {@code POST /escrows}. */
    ESCROW,
    /** The ledger escrow of a marketplace service request. */
    REQUEST,
    /** The ledger escrow of a marketplace task. */
    TASK,
    /** A workflow's step payout. */
    WORKFLOW,
    /** Chain escrows' contract fee, claimed and deposited into the ledger's FEES account. */
    CHAIN_SWEEP
}
