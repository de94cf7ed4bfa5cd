package dev.agentescrow.chain.escrow;

/** How an escrow's shares may be released. */
public enum ReleaseMode {
    /** Any payee's share may be released in parts, independently of the others. */
    PER_PAYEE,
    /** All payees are paid their whole remaining shares in one call, or none is. */
    ATOMIC;

    boolean atomic() {
        return this == ATOMIC;
    }

    static ReleaseMode of(boolean atomic) {
        return atomic ? ATOMIC : PER_PAYEE;
    }
}
