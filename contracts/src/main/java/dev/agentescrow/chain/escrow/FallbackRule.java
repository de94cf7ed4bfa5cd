package dev.agentescrow.chain.escrow;

/**
 * What happens to a disputed escrow that the arbiter leaves undecided past its deadline,
 * mirroring {@code ITaskEscrow.Fallback} (same order).
 */
public enum FallbackRule {
    /** Everything held goes back to the payer. */
    REFUND_PAYER,
    /** Every payee gets its remaining share (minus the fee). */
    PAY_PAYEES,
    /** Every payee gets half its remaining share, rounded down (minus the fee); the payer the rest. */
    SPLIT_EVENLY;

    private static final FallbackRule[] VALUES = values();

    /** The rule with the Solidity enum's numeric value. */
    public static FallbackRule ofOrdinal(int ordinal) {
        if (ordinal < 0 || ordinal >= VALUES.length) {
            throw new IllegalArgumentException("unknown fallback rule " + ordinal);
        }
        return VALUES[ordinal];
    }
}
