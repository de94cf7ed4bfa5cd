package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.BatchStore;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.SettlementSource;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Settlement's state next to the ledger, as the submitter uses it: the {@link BatchStore} is a
 * {@link PostgresBatchStore} (batch rows, their movements, which are the claims, and their signed
 * transactions) and the {@link SettlementSource} a {@link PostgresClaimsStore} (which transfers
 * wait, the watermark, the quarantine, payouts booked through the ledger), both mapping transfers
 * by the one {@link TransferMapping}. Neither writes a ledger row. See docs/settlement.md
 * ("PostgreSQL store").
 */
public final class PostgresSettlementStore implements BatchStore, SettlementSource {
    private final PostgresBatchStore batches;
    private final PostgresClaimsStore claims;

    public PostgresSettlementStore(DataSource dataSource, Ledger ledger, SettlementAddresses addresses, Clock clock) {
        this(dataSource, ledger, addresses, clock, WriteFence.NONE);
    }

    /** A store whose state changes commit only while {@code fence} passes (a leader's epoch). */
    public PostgresSettlementStore(DataSource dataSource, Ledger ledger, SettlementAddresses addresses, Clock clock,
                                   WriteFence fence) {
        this.batches = new PostgresBatchStore(dataSource, clock, fence);
        this.claims = new PostgresClaimsStore(dataSource, ledger, addresses, clock, fence);
    }

    /** See {@link TransferMapping#payoutTransferId}. */
    public static TransferId payoutTransferId(long withdrawalSeq) {
        return TransferMapping.payoutTransferId(withdrawalSeq);
    }

    @Override
    public List<SettlementMovement> unsettled(int limit) {
        return claims.unsettled(limit);
    }

    @Override
    public UnsettledBacklog backlog() {
        return claims.backlog();
    }

    @Override
    public Waiting waiting(int limit) {
        return claims.waiting(limit);
    }

    @Override
    public UnsettledBacklog backlog(int enough) {
        return claims.backlog(enough);
    }

    @Override
    public void release(long batchId) {
        claims.release(batchId);
    }

    @Override
    public void settled(long batchId) {
        claims.settled(batchId);
    }

    @Override
    public void quarantine(TransferId transferId, String reason) {
        claims.quarantine(transferId, reason);
    }

    /** Every quarantined movement with its reason, for a person to resolve. */
    public Map<TransferId, String> quarantined() {
        return claims.quarantined();
    }

    @Override
    public void saveBuilt(SettlementBatchRecord record, List<TransferId> movementIds) {
        batches.saveBuilt(record, movementIds);
    }

    @Override
    public SettlementBatchRecord markSubmitted(long batchId, PreparedTransaction transaction, long signedAtBlock) {
        return batches.markSubmitted(batchId, transaction, signedAtBlock);
    }

    @Override
    public SettlementBatchRecord markConfirmed(long batchId, MinedReceipt receipt) {
        return batches.markConfirmed(batchId, receipt);
    }

    @Override
    public SettlementBatchRecord markReverted(long batchId, String reason) {
        return batches.markReverted(batchId, reason);
    }

    @Override
    public SettlementBatchRecord refuse(long batchId, String reason, Map<TransferId, String> culprits) {
        return batches.refuse(batchId, reason, culprits);
    }

    @Override
    public boolean holdsClaims(long batchId) {
        return batches.holdsClaims(batchId);
    }

    @Override
    public List<SettlementBatchRecord> openBatches() {
        return batches.openBatches();
    }

    /** Every batch row, open and final, in the order they were built. */
    public List<SettlementBatchRecord> batches() {
        return batches.batches();
    }

    @Override
    public long lastBatchId() {
        return batches.lastBatchId();
    }

    @Override
    public Optional<InclusionProof> proof(TransferId transferId) {
        return batches.proof(transferId);
    }
}
