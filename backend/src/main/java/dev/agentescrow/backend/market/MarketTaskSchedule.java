package dev.agentescrow.backend.market;

import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Closes the tasks' bidding windows on the service's schedule: on the batcher's leader only (the
 * instance that writes the ledger), every {@code agentescrow.market.allocation-interval} (1 s by
 * default), each OPEN task whose window has closed is allocated (or closed UNALLOCATED) under its
 * row's lock, so a read or bid that triggers the same allocation concurrently never makes it twice.
 * The same sweep fails each ALLOCATED task past its late window (a missed deadline) and each
 * reported failure whose dispute window ended undisputed, and settles each running task whose
 * escrow ended or is due on the escrow's own schedule (in the task's transaction, before the
 * escrow's schedule, which waits {@code agentescrow.escrow.expiry-lag} longer), also under the
 * row's lock; then each direct request likewise.
 */
@Component
public class MarketTaskSchedule {
    private static final Logger log = LoggerFactory.getLogger(MarketTaskSchedule.class);
    /** Tasks allocated per sweep at most; the rest at the next. */
    static final int MAX_PER_SWEEP = 100;

    private final MarketTasks tasks;
    private final Market requests;
    private final Batcher batcher;

    public MarketTaskSchedule(MarketTasks tasks, Market requests, Batcher batcher) {
        this.tasks = tasks;
        this.requests = requests;
        this.batcher = batcher;
    }

    @Scheduled(fixedDelayString = "${agentescrow.market.allocation-interval:PT1S}")
    public void sweep() {
        if (batcher.role() != Role.LEADER) {
            return;
        }
        try {
            tasks.allocateDue(MAX_PER_SWEEP);
        } catch (RuntimeException e) {
            log.warn("the tasks' allocation sweep failed; tried again at the next sweep", e);
        }
        try {
            tasks.settleDue(MAX_PER_SWEEP);
        } catch (RuntimeException e) {
            log.warn("the tasks' settlement sweep failed; tried again at the next sweep", e);
        }
        try {
            requests.settleDue(MAX_PER_SWEEP);
        } catch (RuntimeException e) {
            log.warn("the requests' settlement sweep failed; tried again at the next sweep", e);
        }
    }
}
