package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.merkle.StandardMerkleTree;
import dev.agentescrow.chain.Address;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Cuts a list of movements, in order, into consecutive batches that each fit the vault's bounds
 * ({@code SettlementBatch.MAX_ENTRIES}, {@code MAX_PAYOUTS}, {@code MAX_TOKENS},
 * {@code MAX_ENTRY_AMOUNT} per net), the gas budget per transaction ({@link BatchGas} bound at most
 * {@link #maxGasPerBatch()}) and at most {@link #maxMovementsPerBatch()} movements. A batch
 * closes when adding the next movement would break a bound; a movement is never split, and any
 * single movement fits an empty batch. Because every batch is a prefix of what remains, settling
 * the batches in order never shows the vault a balance the ledger did not have.
 *
 * @param maxMovementsPerBatch most movements (Merkle leaves) per batch, in
 *     [1, {@link StandardMerkleTree#MAX_LEAVES}]
 * @param maxGasPerBatch the gas budget per transaction: most {@link BatchGas} bound of a batch, at
 *     least {@link BatchGas#SINGLE_MOVEMENT} so that any single movement fits
 */
public record BatchPlanner(int maxMovementsPerBatch, long maxGasPerBatch) {
    public BatchPlanner {
        if (maxMovementsPerBatch < 1 || maxMovementsPerBatch > StandardMerkleTree.MAX_LEAVES) {
            throw new IllegalArgumentException("maxMovementsPerBatch must be in [1, " + StandardMerkleTree.MAX_LEAVES
                    + "]: " + maxMovementsPerBatch);
        }
        if (maxGasPerBatch < BatchGas.SINGLE_MOVEMENT) {
            throw new IllegalArgumentException("maxGasPerBatch must be at least " + BatchGas.SINGLE_MOVEMENT
                    + " (one withdrawal): " + maxGasPerBatch);
        }
    }

    /** At most {@code maxMovementsPerBatch} movements, within the default gas budget. */
    public BatchPlanner(int maxMovementsPerBatch) {
        this(maxMovementsPerBatch, BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
    }

    /**
     * A planner bounded by the vault, the default gas budget ({@link BatchGas#DEFAULT_MAX_GAS_PER_BATCH})
     * and the tree's {@link StandardMerkleTree#MAX_LEAVES}: a batch takes as much as one transaction can settle.
     */
    public static BatchPlanner withDefaults() {
        return new BatchPlanner(StandardMerkleTree.MAX_LEAVES);
    }

    /** As {@link #withDefaults()} with the gas budget {@code maxGasPerBatch}. */
    public static BatchPlanner withGasBudget(long maxGasPerBatch) {
        return new BatchPlanner(StandardMerkleTree.MAX_LEAVES, maxGasPerBatch);
    }

    /**
     * The movements cut into consecutive groups, each of which {@link BatchNetting#net} accepts.
     * Throws {@link IllegalArgumentException} if a movement id appears twice.
     */
    public List<List<SettlementMovement>> split(List<SettlementMovement> movements) {
        Set<TransferId> seen = new HashSet<>();
        List<List<SettlementMovement>> groups = new ArrayList<>();
        BatchAccumulator current = new BatchAccumulator(maxMovementsPerBatch, maxGasPerBatch);
        for (SettlementMovement movement : movements) {
            if (!seen.add(movement.transferId())) {
                throw new IllegalArgumentException("movement id appears twice: " + movement.transferId());
            }
            if (current.exceeded(movement).isPresent()) {
                groups.add(current.movements());
                current = new BatchAccumulator(maxMovementsPerBatch, maxGasPerBatch);
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
        return next(batchId, movements, Funded.NONE);
    }

    /**
     * As {@link #next(long, List)}, a credit to an account {@code funded} names counted in the gas
     * bound as a write of a non-zero slot ({@link BatchGas#FUNDED_ENTRY}) instead of one from zero.
     */
    public Optional<NettedBatch> next(long batchId, List<SettlementMovement> movements, Funded funded) {
        BatchAccumulator batch = new BatchAccumulator(maxMovementsPerBatch, maxGasPerBatch, funded);
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

    /**
     * How long the next batch would be, without netting it (no Merkle tree is built): the longest
     * prefix of {@code movements} that fits, and the bound that closed it before the end (empty
     * when every movement fits). A submitter asks this first and reads which accounts are
     * {@link Funded} only when the gas bound closed the batch, then nets once with {@link #next}.
     */
    public Prefix prefix(List<SettlementMovement> movements, Funded funded) {
        BatchAccumulator batch = new BatchAccumulator(maxMovementsPerBatch, maxGasPerBatch, funded);
        for (SettlementMovement movement : movements) {
            Optional<BatchBound> bound = batch.exceeded(movement);
            if (bound.isPresent()) {
                return new Prefix(batch.size(), bound);
            }
            batch.add(movement);
        }
        return new Prefix(batch.size(), Optional.empty());
    }

    /** The answer of {@link #prefix}: {@code length} movements fit; {@code closedBy} is the bound the next one breaks. */
    public record Prefix(int length, Optional<BatchBound> closedBy) {
        public Prefix {
            if (length < 0) {
                throw new IllegalArgumentException("length must not be negative: " + length);
            }
            java.util.Objects.requireNonNull(closedBy, "closedBy");
        }
    }

    /**
     * Which accounts hold a settled balance on chain that is not zero, in a token, when the batch
     * is built: their balance slot is not zero, so a credit to them costs the vault
     * {@link BatchGas#FUNDED_ENTRY}, not {@link BatchGas#ENTRY}. Only the settling operator's own
     * batches lower a settled balance, one at a time, and the next batch is built after the last
     * one is final; an escape withdrawal (only once the operator has not settled for the escape
     * delay) can empty one in between: then the node's estimate at signing time, which sets the gas
     * limit, is still right, and at worst a batch signed before it runs out of gas, is refused and
     * its movements settle again.
     */
    @FunctionalInterface
    public interface Funded {
        /** No account is known to be funded: every credit is counted as a write from zero. */
        Funded NONE = (token, account) -> false;

        boolean funded(Address token, Address account);
    }
}
