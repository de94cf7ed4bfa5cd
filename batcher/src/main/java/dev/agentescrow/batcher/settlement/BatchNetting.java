package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.merkle.StandardMerkleTree;
import java.util.List;
import java.util.Optional;

/**
 * Nets settlement movements into one batch, with no I/O: per (token, account) the sum of the
 * transfers' credits minus debits becomes one delta (zero nets are left out, so per token the
 * deltas sum to zero), each withdrawal becomes one payout, and every movement becomes one leaf of
 * the batch's Merkle tree. See {@code docs/settlement.md}.
 */
public final class BatchNetting {
    private BatchNetting() {
    }

    /**
     * Nets {@code movements} into batch {@code batchId}. Throws {@link IllegalArgumentException}
     * for no movements, a movement id given twice, or movements that together break a vault bound
     * (more than {@link StandardMerkleTree#MAX_LEAVES} movements, or more entries, payouts or
     * tokens than {@code SettlementBatch} allows, or a net beyond 2^128 - 1): cut such input with
     * {@link BatchPlanner} first.
     */
    public static NettedBatch net(long batchId, List<SettlementMovement> movements) {
        if (movements.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one movement (its Merkle tree needs a leaf)");
        }
        BatchAccumulator batch = new BatchAccumulator(StandardMerkleTree.MAX_LEAVES);
        for (int i = 0; i < movements.size(); i++) {
            SettlementMovement movement = movements.get(i);
            Optional<BatchBound> exceeded = batch.exceeded(movement);
            if (exceeded.isPresent()) {
                throw new IllegalArgumentException("movement " + i + " (" + movement.transferId()
                        + ") breaks the batch bound " + exceeded.get() + "; split the movements with BatchPlanner");
            }
            batch.add(movement);
        }
        return new NettedBatch(batchId, batch.movements(), batch.tokenSettlements());
    }
}
