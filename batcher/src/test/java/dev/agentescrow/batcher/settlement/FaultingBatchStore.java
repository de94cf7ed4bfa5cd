package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link BatchStore} that runs a one-shot action at an armed point: to simulate a process that
 * dies there ({@link Crash}), or to break the chain at exactly that moment.
 */
public final class FaultingBatchStore implements BatchStore {
    /** Where an action can be armed. */
    public enum Point {
        BEFORE_SUBMITTED, AFTER_SUBMITTED, BEFORE_CONFIRMED, BEFORE_REFUSED, AFTER_REFUSED
    }

    /** The simulated death of the submitter process. */
    public static final class Crash extends RuntimeException {
        Crash(Point point) {
            super("simulated crash at " + point);
        }
    }

    private final BatchStore delegate;
    private final Map<Point, Runnable> armed = new EnumMap<>(Point.class);

    public FaultingBatchStore(BatchStore delegate) {
        this.delegate = delegate;
    }

    public synchronized void arm(Point point, Runnable action) {
        armed.put(point, action);
    }

    public synchronized void crashAt(Point point) {
        arm(point, () -> {
            throw new Crash(point);
        });
    }

    private void fire(Point point) {
        Runnable action;
        synchronized (this) {
            action = armed.remove(point);
        }
        if (action != null) {
            action.run();
        }
    }

    @Override
    public void saveBuilt(SettlementBatchRecord record, List<TransferId> movementIds) {
        delegate.saveBuilt(record, movementIds);
    }

    @Override
    public SettlementBatchRecord markSubmitted(long batchId, PreparedTransaction transaction, long signedAtBlock) {
        fire(Point.BEFORE_SUBMITTED);
        SettlementBatchRecord record = delegate.markSubmitted(batchId, transaction, signedAtBlock);
        fire(Point.AFTER_SUBMITTED);
        return record;
    }

    @Override
    public SettlementBatchRecord markConfirmed(long batchId, MinedReceipt receipt) {
        fire(Point.BEFORE_CONFIRMED);
        return delegate.markConfirmed(batchId, receipt);
    }

    @Override
    public SettlementBatchRecord markReverted(long batchId, String reason) {
        return delegate.markReverted(batchId, reason);
    }

    @Override
    public SettlementBatchRecord refuse(long batchId, String reason,
            java.util.Map<TransferId, String> culprits) {
        fire(Point.BEFORE_REFUSED);
        SettlementBatchRecord record = delegate.refuse(batchId, reason, culprits);
        fire(Point.AFTER_REFUSED);
        return record;
    }

    @Override
    public boolean holdsClaims(long batchId) {
        return delegate.holdsClaims(batchId);
    }

    @Override
    public List<SettlementBatchRecord> openBatches() {
        return delegate.openBatches();
    }

    @Override
    public long lastBatchId() {
        return delegate.lastBatchId();
    }

    @Override
    public Optional<InclusionProof> proof(TransferId transferId) {
        return delegate.proof(transferId);
    }
}
