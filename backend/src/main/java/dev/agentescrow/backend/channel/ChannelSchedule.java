package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.common.db.RunningTotals;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.channel.ChannelState;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The watchtower on the service's schedule, on the batcher's leader only (the instance whose
 * contract-log follower indexes the channels), every {@code agentescrow.channels.poll-interval}. On
 * every instance it refreshes the gauges from the channels' running totals per state
 * ({@link RunningTotals}: a few rows, not a count of every channel ever opened):
 * {@code agentescrow_channels_active} (pending, open or closing) and
 * {@code agentescrow_channels_closed} (settled).
 */
@Component
public class ChannelSchedule {
    private static final Logger log = LoggerFactory.getLogger(ChannelSchedule.class);

    private final Watchtower watchtower;
    private final RunningTotals runningTotals;
    private final Batcher batcher;
    private final ChannelSettings settings;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong closed = new AtomicLong();

    public ChannelSchedule(Watchtower watchtower, RunningTotals runningTotals, Batcher batcher, ChannelSettings settings,
                           MeterRegistry registry) {
        this.watchtower = watchtower;
        this.runningTotals = runningTotals;
        this.batcher = batcher;
        this.settings = settings;
        Gauge.builder("agentescrow.channels.active", active, AtomicLong::doubleValue)
                .description("channels pending, open or closing (from the indexed contract state)").register(registry);
        Gauge.builder("agentescrow.channels.closed", closed, AtomicLong::doubleValue)
                .description("channels settled (from the indexed contract state)").register(registry);
    }

    @Scheduled(fixedDelayString = "${agentescrow.channels.poll-interval:PT1S}")
    public void tick() {
        if (batcher.role() == Role.LEADER && settings.watchtowerEnabled()) {
            try {
                watchtower.run();
            } catch (RuntimeException e) {
                log.warn("the watchtower's run failed; tried again at the next poll", e);
            }
        }
        refreshGauges();
    }

    private void refreshGauges() {
        try {
            long live = 0;
            long settled = 0;
            for (RunningTotals.Total total : runningTotals.read(List.of("channels"))) {
                long count = total.value().longValueExact();
                if (ChannelState.valueOf(total.key1()) == ChannelState.SETTLED) {
                    settled += count;
                } else {
                    live += count;
                }
            }
            active.set(live);
            closed.set(settled);
        } catch (RuntimeException e) {
            log.warn("the channel gauges were not refreshed; tried again at the next poll", e);
        }
    }
}
