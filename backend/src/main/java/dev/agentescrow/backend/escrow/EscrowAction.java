package dev.agentescrow.backend.escrow;

/**
 * What changed an escrow: one entry of its history each, named like the contract's events;
 * {@code FUNDING_EXPIRED}: a chain escrow never funded while the contract could still create it.
 */
public enum EscrowAction {
    CREATED, ACCEPTED, CANCELLED, RELEASED, REFUNDED, DISPUTED, RESOLVED, FALLBACK_APPLIED, FUNDING_EXPIRED
}
