package dev.agentescrow.backend.escrow;

/**
 * The states of an escrow, with the names and transitions of the {@code TaskEscrow} contract
 * (docs/escrow.md): OPEN (funded by the payer, payees' acceptance pending), FUNDED (every payee
 * accepted), DISPUTED, and the final COMPLETED, REJECTED, EXPIRED, RESOLVED.
 */
public enum EscrowState {
    OPEN, FUNDED, DISPUTED, COMPLETED, REJECTED, EXPIRED, RESOLVED;

    public boolean isFinal() {
        return this == COMPLETED || this == REJECTED || this == EXPIRED || this == RESOLVED;
    }
}
