package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The ledger and the batch table in memory, as one database would hold them: every method is
 * atomic (one monitor), batches and movement claims change together, and the state outlives any
 * submitter instance that is handed this object (a "restart" is a new submitter on the same ledger).
 */
final class InMemorySettlementLedger implements BatchStore, SettlementSource {
    private record Committed(SettlementMovement movement, Instant committedAt) {
    }

    private final List<Committed> committed = new ArrayList<>();
    private final Map<TransferId, Long> claimedBy = new HashMap<>();
    private final Set<TransferId> settled = new LinkedHashSet<>();
    private final Map<TransferId, String> quarantined = new LinkedHashMap<>();
    private final List<SettlementBatchRecord> rows = new ArrayList<>();
    private final List<Long> settledCalls = new ArrayList<>();

    /** Commits a movement to the off-chain ledger at {@code at}. */
    synchronized void commit(SettlementMovement movement, Instant at) {
        if (committed.stream().anyMatch(c -> c.movement().transferId().equals(movement.transferId()))) {
            throw new IllegalStateException("movement committed twice: " + movement.transferId());
        }
        committed.add(new Committed(movement, at));
    }

    synchronized void commitAll(List<SettlementMovement> movements, Instant at) {
        movements.forEach(movement -> commit(movement, at));
    }

    // ------------------------------------------------------------------ SettlementSource

    @Override
    public synchronized List<SettlementMovement> unsettled(int limit) {
        return waiting().stream().limit(limit).map(Committed::movement).toList();
    }

    @Override
    public synchronized UnsettledBacklog backlog() {
        List<Committed> waiting = waiting();
        return waiting.isEmpty() ? UnsettledBacklog.EMPTY
                : UnsettledBacklog.of(waiting.size(), waiting.stream().map(Committed::committedAt)
                        .min(Comparator.naturalOrder()).orElseThrow());
    }

    private List<Committed> waiting() {
        return committed.stream().filter(c -> isWaiting(c.movement().transferId())).toList();
    }

    private boolean isWaiting(TransferId id) {
        return !claimedBy.containsKey(id) && !settled.contains(id) && !quarantined.containsKey(id);
    }

    @Override
    public synchronized void release(long batchId) {
        claimedBy.values().removeIf(claim -> claim == batchId);
    }

    @Override
    public synchronized void settled(long batchId) {
        settledCalls.add(batchId);
        for (var claim : List.copyOf(claimedBy.entrySet())) {
            if (claim.getValue() == batchId) {
                settled.add(claim.getKey());
                claimedBy.remove(claim.getKey());
            }
        }
    }

    @Override
    public synchronized void quarantine(TransferId transferId, String reason) {
        quarantined.putIfAbsent(transferId, reason);
    }

    // ------------------------------------------------------------------ BatchStore

    @Override
    public synchronized void saveBuilt(SettlementBatchRecord record, List<TransferId> movementIds) {
        if (record.state() != BatchState.BUILT) {
            throw new IllegalStateException("not a built batch: " + record);
        }
        if (rows.stream().anyMatch(SettlementBatchRecord::isOpen)) {
            throw new IllegalStateException("a batch is already open: " + openBatches());
        }
        for (TransferId id : movementIds) {
            if (!isWaiting(id)) {
                throw new IllegalStateException("movement " + id + " is not waiting for settlement");
            }
        }
        rows.add(record);
        movementIds.forEach(id -> claimedBy.put(id, record.batchId()));
    }

    @Override
    public synchronized SettlementBatchRecord markSubmitted(long batchId, PreparedTransaction transaction,
                                                           long signedAtBlock) {
        return update(batchId, record -> record.withSubmitted(transaction, signedAtBlock));
    }

    @Override
    public synchronized SettlementBatchRecord markConfirmed(long batchId, MinedReceipt receipt) {
        return update(batchId, record -> record.withConfirmed(receipt));
    }

    @Override
    public synchronized SettlementBatchRecord markReverted(long batchId, String reason) {
        return refuse(batchId, reason, Map.of());
    }

    @Override
    public synchronized SettlementBatchRecord refuse(long batchId, String reason,
            Map<TransferId, String> culprits) {
        SettlementBatchRecord next = update(batchId, record -> record.withReverted(reason));
        culprits.forEach(this::quarantine);
        release(batchId);
        return next;
    }

    @Override
    public synchronized boolean holdsClaims(long batchId) {
        for (SettlementBatchRecord row : rows) {
            if (row.batchId() == batchId && row.isOpen()) {
                return row.batch().movements().stream()
                        .allMatch(m -> Long.valueOf(batchId).equals(claimedBy.get(m.transferId())));
            }
        }
        return false;
    }

    private SettlementBatchRecord update(long batchId, UnaryOperator<SettlementBatchRecord> transition) {
        for (int i = 0; i < rows.size(); i++) {
            SettlementBatchRecord row = rows.get(i);
            if (row.batchId() == batchId && row.isOpen()) {
                SettlementBatchRecord next = transition.apply(row);
                rows.set(i, next);
                return next;
            }
        }
        throw new IllegalStateException("no open batch " + batchId);
    }

    @Override
    public synchronized List<SettlementBatchRecord> openBatches() {
        return rows.stream().filter(SettlementBatchRecord::isOpen)
                .sorted(Comparator.comparingLong(SettlementBatchRecord::batchId)).toList();
    }

    @Override
    public synchronized long lastBatchId() {
        return confirmed().stream().mapToLong(SettlementBatchRecord::batchId).max().orElse(0);
    }

    @Override
    public synchronized Optional<InclusionProof> proof(TransferId transferId) {
        return confirmed().stream().filter(row -> row.batch().contains(transferId)).findFirst()
                .flatMap(row -> row.batch().proof(transferId));
    }

    // ------------------------------------------------------------------ for assertions

    synchronized List<SettlementBatchRecord> rows() {
        return List.copyOf(rows);
    }

    synchronized List<SettlementBatchRecord> confirmed() {
        return rows.stream().filter(row -> row.state() == BatchState.CONFIRMED).toList();
    }

    synchronized Set<TransferId> settledIds() {
        return Set.copyOf(settled);
    }

    synchronized Map<TransferId, String> quarantined() {
        return Map.copyOf(quarantined);
    }

    synchronized List<SettlementMovement> committedMovements() {
        return committed.stream().map(Committed::movement).toList();
    }

    /** Batch ids in the order {@link #settled} was called, repeats included. */
    synchronized List<Long> settledCalls() {
        return List.copyOf(settledCalls);
    }
}
