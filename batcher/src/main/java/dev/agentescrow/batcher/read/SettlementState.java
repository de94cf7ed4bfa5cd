package dev.agentescrow.batcher.read;

/** Where a committed transfer is in settlement. */
public enum SettlementState {
    /** Committed in the ledger, in no open or confirmed batch (yet, or never: holds, deposits). */
    COMMITTED,
    /** In a batch that is built or sent, not yet confirmed. */
    BATCHED,
    /** In a confirmed batch: it has an inclusion proof against the root the vault emitted. */
    SETTLED,
    /** Taken out of settlement for a person to resolve (see docs/settlement.md). */
    QUARANTINED
}
