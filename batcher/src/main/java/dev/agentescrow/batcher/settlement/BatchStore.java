package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.util.List;
import java.util.Map;
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
    void saveBuilt(SettlementBatchRecord record, List<TransferId> movementIds);

    /**
     * Stores the signed transaction (a first one, a replacement at the same nonce, or one at a new
     * nonce) with the chain's head when it was signed; called before it is broadcast. Earlier
     * transactions of the row stay stored.
     */
    SettlementBatchRecord markSubmitted(long batchId, PreparedTransaction transaction, long signedAtBlock);

    /** The batch was applied by the successful transaction {@code receipt}. */
    SettlementBatchRecord markConfirmed(long batchId, MinedReceipt receipt);

    /** The batch was refused and nothing is quarantined: as {@link #refuse} with no culprits. */
    SettlementBatchRecord markReverted(long batchId, String reason);

    /**
     * The vault refused the batch. In one atomic step: quarantines {@code culprits} (transfer id ->
     * reason), releases the batch's other movements to settle again, drops its claims and marks
     * the row REVERTED. Never in parts: a crash between them would leave an open row whose
     * movements are free to settle in another batch as well (F2).
     */
    SettlementBatchRecord refuse(long batchId, String reason, Map<TransferId, String> culprits);

    /** Whether the open row of {@code batchId} holds the claim of every movement it names; checked before signing. */
    boolean holdsClaims(long batchId);

    /** Rows that are neither confirmed nor reverted, by ascending batch id (at most one in practice). */
    List<SettlementBatchRecord> openBatches();

    /** The highest confirmed batch id, 0 if none. */
    long lastBatchId();

    /** Where a confirmed batch proves the movement {@code transferId}, or empty if no confirmed batch settles it. */
    Optional<InclusionProof> proof(TransferId transferId);
}
