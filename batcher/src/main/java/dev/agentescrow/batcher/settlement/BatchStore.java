package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.merkle.SettlementTransferId;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.util.List;
import java.util.Optional;

/**
 * Where the submitter persists its batches; survives restarts. Every method is atomic. Transitions
 * apply {@link SettlementBatchRecord}'s guarded {@code with...} methods to the one open row of
 * {@code batchId} and throw {@link IllegalStateException} when there is no such row or the
 * transition is not allowed. Several rows may share a batch id: reverted ones and at most one
 * other (open or confirmed).
 */
public interface BatchStore {

    /**
     * Inserts a {@code BUILT} row and, in the same transaction, claims {@code movementIds} for it,
     * so that {@link SettlementSource#unsettled} no longer returns them. Throws
     * {@link IllegalStateException} if a batch is open or any movement is already claimed or settled.
     */
    void saveBuilt(SettlementBatchRecord record, List<SettlementTransferId> movementIds);

    /** Stores the signed transaction; called before it is broadcast. */
    SettlementBatchRecord markSubmitted(long batchId, PreparedTransaction transaction);

    /** The batch was applied by the successful transaction {@code receipt}. */
    SettlementBatchRecord markConfirmed(long batchId, MinedReceipt receipt);

    /** The batch was refused; call after {@link SettlementSource#release}. */
    SettlementBatchRecord markReverted(long batchId, String reason);

    /** Rows that are neither confirmed nor reverted, by ascending batch id (at most one in practice). */
    List<SettlementBatchRecord> openBatches();

    /** The highest confirmed batch id, 0 if none. */
    long lastBatchId();

    /** Where a confirmed batch proves the movement {@code transferId}, or empty if no confirmed batch settles it. */
    Optional<InclusionProof> proof(SettlementTransferId transferId);
}
