package dev.agentescrow.chain.escrow;

/**
 * Life cycle of an escrow, mirroring {@code ITaskEscrow.State} (same order). Names follow
 * ERC-8183 where they mean the same thing (see docs/escrow.md).
 */
public enum EscrowState {
    /** No escrow under the id. */
    NONE,
    /** Funded, waiting for every payee's acceptance; the payer may cancel while none accepted. */
    OPEN,
    /** Every payee accepted: releases, disputes and, after the deadline, the refund. */
    FUNDED,
    /** The arbiter may split what is held until its deadline; then anyone may apply the fallback. */
    DISPUTED,
    /** Every payee received its whole share. Final. */
    COMPLETED,
    /** Cancelled by the payer before any payee accepted; everything went back. Final. */
    REJECTED,
    /** The remainder went back to the payer after the deadline. Final. */
    EXPIRED,
    /** The arbiter's split or the fallback paid out what was held. Final. */
    RESOLVED;

    private static final EscrowState[] VALUES = values();

    /** The state with the Solidity enum's numeric value. */
    public static EscrowState ofOrdinal(int ordinal) {
        if (ordinal < 0 || ordinal >= VALUES.length) {
            throw new IllegalArgumentException("unknown escrow state " + ordinal);
        }
        return VALUES[ordinal];
    }

    /** Whether nothing can change any more. */
    public boolean isFinal() {
        return this == COMPLETED || this == REJECTED || this == EXPIRED || this == RESOLVED;
    }
}
