package dev.agentescrow.backend.fee;

import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The distributions on the leader's schedule: every {@code agentescrow.fees.check-interval} the
 * ledger's leader pays a period left PLANNED, and distributes the next period once
 * {@code agentescrow.fees.period} has passed since the last one ended (or, before the first, since
 * the oldest fee not yet distributed), when there are fees and stakeholders. It goes through the
 * same plan and pay as an admin's call, so the two never pay a period twice.
 */
@Component
public class FeeSchedule {
    private static final Logger log = LoggerFactory.getLogger(FeeSchedule.class);
    public static final String ACTOR = "scheduler";

    private final FeeDistributions distributions;
    private final FeeSettings settings;
    private final Batcher batcher;
    private final Clock clock;

    public FeeSchedule(FeeDistributions distributions, FeeSettings settings, Batcher batcher, Clock clock) {
        this.distributions = distributions;
        this.settings = settings;
        this.batcher = batcher;
        this.clock = clock;
    }

    @Scheduled(fixedDelayString = "${agentescrow.fees.check-interval:PT1M}",
            initialDelayString = "${agentescrow.fees.check-interval:PT1M}")
    public void tick() {
        if (batcher.role() != Role.LEADER) {
            return;
        }
        try {
            distributions.finishPlanned();
            if (due(clock.instant())) {
                FeeDistributions.Outcome outcome = distributions.distribute(FeePeriod.Trigger.SCHEDULE, ACTOR);
                if (!outcome.ok()) {
                    log.info("scheduled fee distribution: {}", outcome.refusal().message());
                }
            }
        } catch (RuntimeException e) {
            log.warn("scheduled fee distribution failed, tried again at the next check", e);
        }
    }

    /** Whether a period has run its length by {@code now}. */
    boolean due(Instant now) {
        Optional<Instant> from = distributions.lastEnd().or(distributions::oldestUnclaimed);
        return from.isPresent() && !from.get().plus(settings.period()).isAfter(now);
    }
}
