package dev.agentescrow.batcher.ledger;

/** Outcome of {@code Ledger.registerToken}. */
public enum TokenRegistration {
    /** Registered now, with its system accounts. */
    REGISTERED,
    /** Already registered with the same symbol and decimals. */
    ALREADY_REGISTERED,
    /** Already registered with a different symbol or decimals; nothing changed. */
    CONFLICT
}
