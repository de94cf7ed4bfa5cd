package dev.agentescrow.backend.channel;

import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.channel.ChannelState;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The watchtower on the service's schedule, on the batcher's leader only (the instance whose
 * contract-log follower indexes the channels), every {@code agentescrow.channels.poll-interval}. On
 * every instance it refreshes the gauges from the rows: {@code agentescrow_channels_active}
 * (pending, open or closing) and {@code agentescrow_channels_closed} (settled).
 */
@Component
public class ChannelSchedule {
    private static final Logger log = LoggerFactory.getLogger(ChannelSchedule.class);

    private final Watchtower watchtower;
    private final ChannelStore store;
    private final Batcher batcher;
    private final ChannelSettings settings;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong closed = new AtomicLong();

    public ChannelSchedule(Watchtower watchtower, ChannelStore store, Batcher batcher, ChannelSettings settings,
                           MeterRegistry registry) {
        this.watchtower = watchtower;
        this.store = store;
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
        active.set(store.count(ChannelState.PENDING) + store.count(ChannelState.OPEN) + store.count(ChannelState.CLOSING));
        closed.set(store.count(ChannelState.SETTLED));
    }
}
