package dev.agentescrow.batcher.indexer;

import dev.agentescrow.chain.vault.VaultDeposit;

/**
 * Where confirmed deposits go: the off-chain ledger credits the depositor. Must be idempotent per
 * deposit position (tx hash, log index): the indexer hands a deposit over again after a crash
 * between crediting it and saving its checkpoint.
 */
public interface DepositSink {
    /** What became of one deposit. */
    enum Outcome {
        /** Credited now. */
        CREDITED,
        /** Credited before (a replay after a restart); nothing changed. */
        ALREADY_CREDITED,
        /** Not credited, e.g. a token the ledger does not know; reported, never retried silently. */
        REJECTED
    }

    Outcome credit(VaultDeposit deposit);
}
