package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.merkle.SettlementTransferId;
import dev.agentescrow.batcher.merkle.StandardMerkleTree;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Cuts a list of movements, in order, into consecutive batches that each fit the vault's bounds
 * ({@code SettlementBatch.MAX_ENTRIES}, {@code MAX_PAYOUTS}, {@code MAX_TOKENS},
 * {@code MAX_ENTRY_AMOUNT} per net) and at most {@link #maxMovementsPerBatch()} movements. A batch
 * closes when adding the next movement would break a bound; a movement is never split, and any
 * single movement fits an empty batch. Because every batch is a prefix of what remains, settling
 * the batches in order never shows the vault a balance the ledger did not have.
 *
 * @param maxMovementsPerBatch most movements (Merkle leaves) per batch, in
 *     [1, {@link StandardMerkleTree#MAX_LEAVES}]
 */
public record BatchPlanner(int maxMovementsPerBatch) {
    public BatchPlanner {
        if (maxMovementsPerBatch < 1 || maxMovementsPerBatch > StandardMerkleTree.MAX_LEAVES) {
            throw new IllegalArgumentException("maxMovementsPerBatch must be in [1, " + StandardMerkleTree.MAX_LEAVES
                    + "]: " + maxMovementsPerBatch);
        }
    }

    /** A planner bounded by the vault only (and the tree's {@link StandardMerkleTree#MAX_LEAVES}). */
    public static BatchPlanner withDefaults() {
        return new BatchPlanner(StandardMerkleTree.MAX_LEAVES);
    }

    /**
     * The movements cut into consecutive groups, each of which {@link BatchNetting#net} accepts.
     * Throws {@link IllegalArgumentException} if a movement id appears twice.
     */
    public List<List<SettlementMovement>> split(List<SettlementMovement> movements) {
        Set<SettlementTransferId> seen = new HashSet<>();
        List<List<SettlementMovement>> groups = new ArrayList<>();
        BatchAccumulator current = new BatchAccumulator(maxMovementsPerBatch);
        for (SettlementMovement movement : movements) {
            if (!seen.add(movement.transferId())) {
                throw new IllegalArgumentException("movement id appears twice: " + movement.transferId());
            }
            if (current.exceeded(movement).isPresent()) {
                groups.add(current.movements());
                current = new BatchAccumulator(maxMovementsPerBatch);
            }
            current.add(movement);
        }
        if (!current.isEmpty()) {
            groups.add(current.movements());
        }
        return groups;
    }

    /** {@link #split} then {@link BatchNetting#net} of each group, with ids {@code firstBatchId, firstBatchId + 1, ...}. */
    public List<NettedBatch> plan(long firstBatchId, List<SettlementMovement> movements) {
        List<List<SettlementMovement>> groups = split(movements);
        List<NettedBatch> batches = new ArrayList<>(groups.size());
        for (int i = 0; i < groups.size(); i++) {
            batches.add(BatchNetting.net(Math.addExact(firstBatchId, i), groups.get(i)));
        }
        return batches;
    }

    /**
     * The first batch only: the longest prefix of {@code movements} that fits, netted as
     * {@code batchId}; empty if there are no movements. The rest waits for the next batch.
     */
    public Optional<NettedBatch> next(long batchId, List<SettlementMovement> movements) {
        BatchAccumulator batch = new BatchAccumulator(maxMovementsPerBatch);
        for (SettlementMovement movement : movements) {
            if (batch.exceeded(movement).isPresent()) {
                break;
            }
            batch.add(movement);
        }
        if (batch.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new NettedBatch(batchId, batch.movements(), batch.tokenSettlements()));
    }
}
