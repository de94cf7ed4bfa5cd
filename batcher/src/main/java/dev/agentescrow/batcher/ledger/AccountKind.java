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
    /**
     * Protocol fees collected (issue 16), kept apart from the platform's {@link #FEES} so that each
     * is reported and distributed by itself. Settles on chain as the fee collector, like FEES.
     * Never negative; opened on its first credit for tokens registered before it existed.
     */
    PROTOCOL_FEES,
    /** Holds whose payee is not known yet (hold to ESCROW, post, then pay out from ESCROW). */
    ESCROW,
    /** Withdrawals awaiting the next settlement batch (user -> PAYOUTS). Never negative. */
    PAYOUTS,
    /**
     * The funds of one escrow in one token (named by an escrow id, no owner; issue 11): funded by
     * its payer, paid out by partial releases, refunds and splits, each an ordinary transfer that
     * the balance check keeps within what the escrow holds. Settles on chain as the escrow holder,
     * like {@link #ESCROW}. Never negative; opened on its first credit, not per token.
     */
    ESCROW_FUNDS;

    public boolean mayGoNegative() {
        return this == CUSTODY;
    }

    /** One account of this kind per token, opened when the token is registered (no owner, no escrow id). */
    public boolean isSystem() {
        return this != USER && this != ESCROW_FUNDS;
    }
}
