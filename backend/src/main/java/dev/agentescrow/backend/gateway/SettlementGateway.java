package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/**
 * Settlement as the service reads it: batches (through the batcher's reads, on any instance), the
 * backlog of movements not yet in a batch, and reconciliation (on the leader).
 */
@Component
public class SettlementGateway {

    private final Batcher batcher;
    private final LedgerGateway ledger;
    private final DataSource dataSource;
    private final SettlementAddresses systemAccounts;
    private final Clock clock;

    public SettlementGateway(Batcher batcher, LedgerGateway ledger, DataSource dataSource,
                             SettlementAddresses systemAccounts, Clock clock) {
        this.batcher = batcher;
        this.ledger = ledger;
        this.dataSource = dataSource;
        this.systemAccounts = systemAccounts;
        this.clock = clock;
    }

    /** Batches newest first: at most {@code limit} (1..1,000) with an id below {@code beforeId}. */
    public List<BatchView> batches(long beforeId, int limit) {
        return ledger.batches(beforeId, limit).stream().map(BatchView::of).toList();
    }

    /** The batch with this id: its open or confirmed row, else its last refused one. */
    public Optional<BatchView> batch(long id) {
        return ledger.batch(id).map(BatchView::of);
    }

    /** Movements committed and not yet in a batch, and the age of the oldest (on the leader). */
    public UnsettledBacklog backlog() {
        return new PostgresSettlementStore(dataSource, batcher.ledger(), systemAccounts, clock).backlog();
    }

    /** Reconciles every token now (skipped, and said so, while a batch is in flight). */
    public ReconciliationReport reconcile() {
        return batcher.reconcile();
    }

    public Optional<ReconciliationReport> lastReconciliation() {
        return batcher.lastReconciliation();
    }
}
