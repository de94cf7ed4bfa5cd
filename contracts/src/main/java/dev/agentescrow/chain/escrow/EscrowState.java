package dev.agentescrow.chain.escrow;

/** Life cycle of an escrow, mirroring {@code ITaskEscrow.State} (same order). */
public enum EscrowState {
    /** No escrow under the id. */
    NONE,
    /** Holds tokens; releases, a refund after the deadline and disputes are possible. */
    FUNDED,
    /** Frozen until the arbiter resolves it. */
    DISPUTED,
    /** Every payee received its whole share. Final. */
    RELEASED,
    /** The remainder went back to the payer after the deadline. Final. */
    REFUNDED,
    /** The arbiter split what was held among payees and payer. Final. */
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
        return this == RELEASED || this == REFUNDED || this == RESOLVED;
    }
}
