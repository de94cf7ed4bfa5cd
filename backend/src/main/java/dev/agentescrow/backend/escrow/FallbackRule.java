package dev.agentescrow.backend.escrow;

/**
 * What a dispute the arbiter leaves undecided turns into, fixed at creation (the contract's
 * {@code RefundPayer}, {@code PayPayees}, {@code SplitEvenly}).
 */
public enum FallbackRule {
    /** Everything held goes back to the payer. */
    REFUND_PAYER,
    /** Every payee gets its whole remaining share (the fee taken from it). */
    PAY_PAYEES,
    /** Payee {@code i} gets {@code floor(remaining_i / 2)}; the payer the rest, rounding dust included. */
    SPLIT_EVENLY
}
