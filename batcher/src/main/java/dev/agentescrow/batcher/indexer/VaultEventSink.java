package dev.agentescrow.batcher.indexer;

import dev.agentescrow.chain.vault.EscapeWithdrawal;
import dev.agentescrow.chain.vault.VaultDeposit;

/**
 * Where the vault's confirmed custody events go: the off-chain ledger credits a depositor and
 * debits an account that took its settled balance out through the escape hatch. Must be
 * idempotent per event position (tx hash, log index): the indexer hands an event over again after
 * a crash between booking it and saving its checkpoint.
 */
public interface VaultEventSink {
    /** What became of one event. */
    enum Outcome {
        /** A deposit, credited now. */
        CREDITED,
        /** An escape withdrawal, debited now. */
        DEBITED,
        /** Booked before (a replay after a restart); nothing changed. */
        ALREADY_BOOKED,
        /**
         * Not booked, e.g. a token the ledger does not know, or an escape larger than what the
         * ledger holds for the account; reported, never retried silently.
         */
        REJECTED
    }

    Outcome credit(VaultDeposit deposit);

    Outcome debit(EscapeWithdrawal escape);
}
