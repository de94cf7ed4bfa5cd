package dev.agentescrow.backend.escrow;

/** What changed an escrow: one entry of its history each, named like the contract's events. */
public enum EscrowAction {
    CREATED, ACCEPTED, CANCELLED, RELEASED, REFUNDED, DISPUTED, RESOLVED, FALLBACK_APPLIED
}
