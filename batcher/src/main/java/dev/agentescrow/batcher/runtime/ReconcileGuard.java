package dev.agentescrow.batcher.runtime;

import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import java.time.Clock;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Runs a reconciliation only while no batch is in flight (issue 10, F6). The reconciler runs on
 * its own lane, beside settlement, so a batch may also be sent or confirmed during the run: the
 * state of the open batches is read before and after, and a run across a change is reported as
 * skipped, never as a mismatch.
 */
final class ReconcileGuard {
    private ReconcileGuard() {
    }

    /**
     * @param inFlight the id of a SUBMITTED batch, if any
     * @param batches a value that changes whenever a batch is built, sent, confirmed or refused
     * @param reconcile the run
     */
    static ReconciliationReport run(Supplier<OptionalLong> inFlight, Supplier<?> batches,
                                    Supplier<ReconciliationReport> reconcile, Clock clock) {
        OptionalLong before = inFlight.get();
        if (before.isPresent()) {
            return ReconciliationReport.skipped(clock.instant(), before.getAsLong());
        }
        Object stateBefore = batches.get();
        ReconciliationReport report = reconcile.get();
        Object stateAfter = batches.get();
        if (!Objects.equals(stateBefore, stateAfter)) {
            OptionalLong now = inFlight.get();
            return ReconciliationReport.skipped(clock.instant(), now.orElse(-1));
        }
        return report;
    }
}
