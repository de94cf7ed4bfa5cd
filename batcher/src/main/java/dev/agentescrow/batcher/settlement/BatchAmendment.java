package dev.agentescrow.batcher.settlement;

import dev.agentescrow.chain.vault.SettlementBatch;

/**
 * Turns a netted batch into what the submitter signs, from what the chain says at that moment:
 * the forced-withdrawal serving marks payouts that serve an open on-chain request
 * ({@code dev.agentescrow.batcher.forced.ForcedWithdrawalServing}). Must keep the batch id, root,
 * deltas and the amounts and order of ordinary payouts; called again (and must then give the same
 * answer for the same chain state) when a {@code BUILT} batch is prepared after a restart.
 */
@FunctionalInterface
public interface BatchAmendment {
    /** No amendment: the netted batch as it is. */
    BatchAmendment NONE = NettedBatch::settlementBatch;

    SettlementBatch amend(NettedBatch batch);
}
