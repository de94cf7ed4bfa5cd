package dev.agentescrow.batcher.ledger;

/** What a transfer does. Clients submit all but {@link #EXPIRE}, which the ledger writes. */
public enum TransferKind {
    /** Moves posted funds at once. */
    SINGLE,
    /** Holds funds: a pending debit on the payer, a pending credit on the payee, until a timeout. */
    PENDING,
    /** Completes a pending transfer, in full or in part; the rest returns to the payer. */
    POST,
    /** Cancels a pending transfer; everything returns to the payer. */
    VOID,
    /** Written by {@code expirePending()} for a pending transfer past its timeout. */
    EXPIRE;

    public boolean resolvesPending() {
        return this == POST || this == VOID || this == EXPIRE;
    }
}
