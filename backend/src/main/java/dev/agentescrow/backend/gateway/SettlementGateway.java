package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.NettedBatch;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.time.Clock;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/**
 * The one place the service reads settlement: batches, proofs, a movement's stage, reconciliation.
 * It reads through the batcher's settlement store ({@link PostgresSettlementStore#batches()} loads
 * every batch) until the batcher has per-batch and per-transfer reads.
 */
@Component
public class SettlementGateway {
    private final Batcher batcher;
    private final DataSource dataSource;
    private final SettlementAddresses systemAccounts;
    private final Clock clock;
    private static final int MAX_CACHED_CONFIRMATIONS = 100_000;
    private final java.util.Map<Long, MinedReceipt> confirmations = new java.util.concurrent.ConcurrentHashMap<>();

    public SettlementGateway(Batcher batcher, DataSource dataSource, SettlementAddresses systemAccounts, Clock clock) {
        this.batcher = batcher;
        this.dataSource = dataSource;
        this.systemAccounts = systemAccounts;
        this.clock = clock;
    }

    /** The settlement store of the current term (the ledger runs on the leader only). */
    private PostgresSettlementStore store() {
        return new PostgresSettlementStore(dataSource, batcher.ledger(), systemAccounts, clock);
    }

    /** Every batch, newest first. */
    public List<BatchView> batches() {
        return store().batches().stream().map(SettlementGateway::view)
                .sorted(Comparator.comparingLong(BatchView::id).reversed()).toList();
    }

    /** The batch with this id: its confirmed row if one exists, else its latest row. */
    public Optional<BatchView> batch(long id) {
        List<SettlementBatchRecord> rows = store().batches().stream().filter(r -> r.batchId() == id).toList();
        return rows.stream().filter(r -> r.state() == BatchState.CONFIRMED).findFirst()
                .or(() -> rows.isEmpty() ? Optional.empty() : Optional.of(rows.getLast()))
                .map(SettlementGateway::view);
    }

    /** Where the movement with this ledger transfer id is: committed, in an open batch, or settled. */
    public MovementState stage(TransferId id) {
        Optional<InclusionProof> proof = batcher.proof(id);
        if (proof.isPresent()) {
            long batchId = proof.get().batchId();
            Optional<MinedReceipt> receipt = confirmation(batchId);
            return new MovementState(MovementState.Stage.SETTLED, OptionalLong.of(batchId),
                    receipt.map(r -> new SettledMovement(proof.get(), r.txHash(), r.blockNumber())));
        }
        for (SettlementBatchRecord open : store().openBatches()) {
            if (open.batch().contains(id)) {
                return new MovementState(MovementState.Stage.BATCHED, OptionalLong.of(open.batchId()), Optional.empty());
            }
        }
        return MovementState.committed();
    }

    /** The receipt of a confirmed batch; final once confirmed, so kept after the first read. */
    private Optional<MinedReceipt> confirmation(long batchId) {
        MinedReceipt known = confirmations.get(batchId);
        if (known != null) {
            return Optional.of(known);
        }
        if (confirmations.size() > MAX_CACHED_CONFIRMATIONS) {
            confirmations.clear();
        }
        for (SettlementBatchRecord record : store().batches()) {
            if (record.state() == BatchState.CONFIRMED) {
                record.confirmation().ifPresent(r -> confirmations.put(record.batchId(), r));
            }
        }
        return Optional.ofNullable(confirmations.get(batchId));
    }

    /** Movements committed and not yet in a batch, and the age of the oldest. */
    public UnsettledBacklog backlog() {
        return store().backlog();
    }

    /** Reconciles every token now (skipped, and said so, while a batch is in flight). */
    public ReconciliationReport reconcile() {
        return batcher.reconcile();
    }

    public Optional<ReconciliationReport> lastReconciliation() {
        return batcher.lastReconciliation();
    }

    private static BatchView view(SettlementBatchRecord record) {
        NettedBatch batch = record.batch();
        Optional<MinedReceipt> receipt = record.confirmation();
        Set<Address> accounts = new HashSet<>();
        java.math.BigInteger moved = java.math.BigInteger.ZERO;
        for (SettlementMovement movement : batch.movements()) {
            moved = moved.add(movement.amount().baseUnits());
            accounts.add(movement.leaf().from());
            accounts.add(movement.leaf().to());
        }
        return new BatchView(record.batchId(), record.state(),
                receipt.map(MinedReceipt::txHash).or(() -> record.currentTransaction().map(PreparedTransaction::txHash))
                        .orElse(null),
                receipt.map(r -> OptionalLong.of(r.gasUsed())).orElse(OptionalLong.empty()),
                receipt.map(r -> OptionalLong.of(r.blockNumber())).orElse(OptionalLong.empty()),
                batch.transferCount(), batch.withdrawalCount(), accounts.size(), batch.merkleRoot(), moved);
    }
}
