package dev.agentescrow.backend.workflow;

import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The workflows' deadlines and auctions on the service's schedule: on the batcher's leader only,
 * every {@code agentescrow.workflow.sweep-interval}, each workflow with a step past its deadline has
 * that step failed (its dependants with it, its share refunded, or in ATOMIC mode everything
 * refunded), and each auctioned step whose bidding window has closed is allocated (then its
 * surplus refunded) or, without a bid, failed. Each workflow is one change under its row lock ({@code SKIP LOCKED}), so a party's
 * concurrent report or another instance never makes it happen twice.
 */
@Component
public class WorkflowSchedule {
    private static final Logger log = LoggerFactory.getLogger(WorkflowSchedule.class);
    /** Workflows expired per sweep at most; the rest at the next. */
    static final int MAX_PER_SWEEP = 100;

    private final Workflows workflows;
    private final Batcher batcher;

    public WorkflowSchedule(Workflows workflows, Batcher batcher) {
        this.workflows = workflows;
        this.batcher = batcher;
    }

    @Scheduled(fixedDelayString = "${agentescrow.workflow.sweep-interval:PT1S}")
    public void sweep() {
        if (batcher.role() != Role.LEADER) {
            return;
        }
        for (String id : workflows.due(MAX_PER_SWEEP)) {
            try {
                workflows.expire(id, true);
            } catch (RuntimeException e) {
                log.warn("workflow {}: the scheduled expiry failed, tried again at the next sweep", id, e);
            }
        }
    }
}
