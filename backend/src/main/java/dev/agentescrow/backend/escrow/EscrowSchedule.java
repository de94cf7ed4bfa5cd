package dev.agentescrow.backend.escrow;

import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The escrows' deadlines on the service's schedule: on the batcher's leader only (the one
 * instance that writes the ledger), every {@code agentescrow.escrow.sweep-interval}, each escrow
 * whose grace period ended is refunded (EXPIRED) and each dispute past its arbitration deadline
 * settled by its fallback (RESOLVED), once {@code expiry-lag} has passed (so a party's own call
 * comes first). Each escrow is one action under its row lock ({@code SKIP LOCKED}), so a party's
 * concurrent call or another instance never makes it happen twice. Also refreshes the escrow
 * gauges from the rows: {@code agentescrow_escrows_active} and
 * {@code agentescrow_escrow_amount_locked{token}}.
 */
@Component
public class EscrowSchedule {
    private static final Logger log = LoggerFactory.getLogger(EscrowSchedule.class);
    /** Escrows settled per sweep at most; the rest at the next. */
    static final int MAX_PER_SWEEP = 100;

    private final Escrows escrows;
    private final EscrowStore store;
    private final Batcher batcher;
    private final AtomicLong active = new AtomicLong();
    private final MultiGauge locked;

    public EscrowSchedule(Escrows escrows, EscrowStore store, Batcher batcher, MeterRegistry registry) {
        this.escrows = escrows;
        this.store = store;
        this.batcher = batcher;
        Gauge.builder("agentescrow.escrows.active", active, AtomicLong::doubleValue)
                .description("escrows not in a final state (OPEN, FUNDED, DISPUTED)").register(registry);
        this.locked = MultiGauge.builder("agentescrow.escrow.amount.locked")
                .description("what active escrows hold, base units per token").register(registry);
        refreshGauges();
    }

    @Scheduled(fixedDelayString = "${agentescrow.escrow.sweep-interval:PT1S}")
    public void sweep() {
        refreshGauges();
        if (batcher.role() != Role.LEADER) {
            return;
        }
        for (String id : escrows.due(MAX_PER_SWEEP)) {
            try {
                escrows.settleDue(id).filter(result -> !result.ok()).ifPresent(result ->
                        log.info("escrow {} not settled by the schedule: {} {}", id, result.code(), result.message()));
            } catch (RuntimeException e) {
                log.warn("escrow {}: the scheduled settlement failed, tried again at the next sweep", id, e);
            }
        }
    }

    private void refreshGauges() {
        active.set(store.activeCount());
        locked.register(store.lockedByToken().entrySet().stream()
                .map(entry -> MultiGauge.Row.of(Tags.of("token", entry.getKey().checksummed()),
                        entry.getValue().doubleValue()))
                .toList(), true);
    }
}
