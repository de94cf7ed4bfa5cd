package dev.agentescrow.backend.escrow;

/**
 * The states of an escrow, with the names and transitions of the {@code TaskEscrow} contract
 * (docs/escrow.md): OPEN (funded by the payer, payees' acceptance pending), FUNDED (every payee
 * accepted), DISPUTED, and the final COMPLETED, REJECTED, EXPIRED, RESOLVED. A chain escrow is
 * PENDING_FUNDING from its create until the contract's {@code Created} event is confirmed.
 */
public enum EscrowState {
    PENDING_FUNDING, OPEN, FUNDED, DISPUTED, COMPLETED, REJECTED, EXPIRED, RESOLVED;

    public boolean isFinal() {
        return this == COMPLETED || this == REJECTED || this == EXPIRED || this == RESOLVED;
    }
}
