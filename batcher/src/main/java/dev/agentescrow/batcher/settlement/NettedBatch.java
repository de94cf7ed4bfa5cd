package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.merkle.StandardMerkleTree;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One batch ready for {@code SettlementVaultGateway.settleBatch}: the netted
 * {@link SettlementBatch}, the movements it settles in their original order, and the
 * {@link StandardMerkleTree} over all of them (movement {@code i} is leaf {@code i}; transfers and
 * withdrawals alike), whose root the batch carries. Immutable.
 */
public final class NettedBatch {
    private final SettlementBatch settlementBatch;
    private final List<SettlementMovement> movements;
    private final StandardMerkleTree tree;
    private final Map<TransferId, Integer> indexById;
    private final int withdrawalCount;

    NettedBatch(long batchId, List<SettlementMovement> movements, List<SettlementBatch.TokenSettlement> tokens) {
        this.movements = List.copyOf(movements);
        this.tree = StandardMerkleTree.of(this.movements.stream().map(SettlementMovement::leaf).toList());
        this.settlementBatch = new SettlementBatch(batchId, tree.root(), tokens);
        this.indexById = new HashMap<>();
        int withdrawals = 0;
        for (int i = 0; i < this.movements.size(); i++) {
            SettlementMovement movement = this.movements.get(i);
            indexById.put(movement.transferId(), i);
            if (movement instanceof SettlementMovement.Withdrawal) {
                withdrawals++;
            }
        }
        this.withdrawalCount = withdrawals;
    }

    /** What the gateway sends: batch id, Merkle root, per-token deltas and payouts. */
    public SettlementBatch settlementBatch() {
        return settlementBatch;
    }

    public long batchId() {
        return settlementBatch.batchId();
    }

    public Bytes32 merkleRoot() {
        return settlementBatch.merkleRoot();
    }

    /** The tree over all movements, leaf {@code i} = movement {@code i}. */
    public StandardMerkleTree tree() {
        return tree;
    }

    /** The settled movements in the order they were given. */
    public List<SettlementMovement> movements() {
        return movements;
    }

    public int movementCount() {
        return movements.size();
    }

    public int transferCount() {
        return movements.size() - withdrawalCount;
    }

    public int withdrawalCount() {
        return withdrawalCount;
    }

    /** Deltas plus payouts, the figure the vault bounds by {@link SettlementBatch#MAX_ENTRIES}. */
    public int entryCount() {
        return settlementBatch.entryCount();
    }

    /** Whether the batch settles the movement with this id. */
    public boolean contains(TransferId transferId) {
        return indexById.containsKey(transferId);
    }

    /** The inclusion proof of the movement with this id, or empty if this batch does not settle it. */
    public Optional<InclusionProof> proof(TransferId transferId) {
        Integer index = indexById.get(transferId);
        if (index == null) {
            return Optional.empty();
        }
        return Optional.of(new InclusionProof(batchId(), merkleRoot(), tree.leaf(index), tree.proof(index)));
    }

    @Override
    public String toString() {
        return "NettedBatch[id=" + batchId() + ", root=" + merkleRoot() + ", movements=" + movements.size()
                + ", withdrawals=" + withdrawalCount + ", entries=" + entryCount() + "]";
    }
}
