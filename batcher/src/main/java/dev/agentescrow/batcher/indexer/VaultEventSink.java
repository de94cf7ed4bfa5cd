package dev.agentescrow.batcher.indexer;

/**
 * Where the vault's custody events go, as two-phase bookings: a hold (the ledger's pending transfer)
 * at the hold confirmations, posted at the confirmation depth, or voided when the block that held the
 * event leaves the chain. A deposit's hold is CUSTODY -> the account (incoming for the user), an
 * escape's the account -> CUSTODY (its funds frozen). Every call must be idempotent per hold: the
 * indexer repeats a call after a crash between the ledger and its own bookkeeping.
 */
public interface VaultEventSink {
    /** What became of one call. */
    enum Outcome {
        /** A hold booked now. */
        HELD,
        /** A deposit's hold posted now: the user can spend it. */
        CREDITED,
        /** An escape's hold posted now. */
        DEBITED,
        /** A hold voided now (its block left the chain). */
        VOIDED,
        /** Done before (a replay after a restart); nothing changed. */
        ALREADY_BOOKED,
        /**
         * The hold was not booked, e.g. a token the ledger does not know, or an escape larger than what
         * the ledger holds for the account; reported, never retried silently.
         */
        REJECTED
    }

    /** Books {@code hold}'s pending transfer: {@link Outcome#HELD}, {@link Outcome#ALREADY_BOOKED} or {@link Outcome#REJECTED}. */
    Outcome hold(CustodyHold hold);

    /** Posts a booked hold: {@link Outcome#CREDITED}, {@link Outcome#DEBITED} or {@link Outcome#ALREADY_BOOKED}. */
    Outcome post(CustodyHold hold);

    /** Voids a hold (one never booked needs nothing): {@link Outcome#VOIDED} or {@link Outcome#ALREADY_BOOKED}. */
    Outcome release(CustodyHold hold);
}
