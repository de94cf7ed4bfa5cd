package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.chain.TxHash;

/** A movement in a confirmed batch: its inclusion proof and the transaction that applied the batch. */
public record SettledMovement(InclusionProof proof, TxHash txHash, long blockNumber) {
}
