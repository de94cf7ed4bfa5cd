package dev.agentescrow.batcher.ledger;

/**
 * What an account is for. Every registered token has one account of each system kind; user
 * accounts are one per (owner, token). Only {@link #CUSTODY} may go negative.
 */
public enum AccountKind {
    /** An agent's spendable balance of one token. Never negative. */
    USER,
    /**
     * Counterparty of on-chain deposits (CUSTODY -> user) and of settled payouts
     * (PAYOUTS -> CUSTODY): its balance is minus what the vault holds for the ledger.
     */
    CUSTODY,
    /** Platform fees collected. Never negative. */
    FEES,
    /** Holds whose payee is not known yet (hold to ESCROW, post, then pay out from ESCROW). */
    ESCROW,
    /** Withdrawals awaiting the next settlement batch (user -> PAYOUTS). Never negative. */
    PAYOUTS;

    public boolean mayGoNegative() {
        return this == CUSTODY;
    }

    public boolean isSystem() {
        return this != USER;
    }
}
