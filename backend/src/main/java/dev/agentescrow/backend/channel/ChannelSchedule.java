package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.config.BackendProperties;
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
 * The channels' work on the service's schedule, on the batcher's leader only: every
 * {@code agentescrow.channels.poll-interval} the follower reads the confirmed PaymentChannels
 * events into the channel rows, then the watchtower runs. On every instance it refreshes the
 * gauges from the rows: {@code agentescrow_channels_active} (pending, open or closing) and
 * {@code agentescrow_channels_closed} (settled).
 */
@Component
public class ChannelSchedule {
    private static final Logger log = LoggerFactory.getLogger(ChannelSchedule.class);

    private final ChannelLogFollower follower;
    private final ChannelIndexer indexer;
    private final Watchtower watchtower;
    private final ChannelStore store;
    private final Batcher batcher;
    private final ChannelSettings settings;
    private final int confirmations;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong closed = new AtomicLong();

    public ChannelSchedule(ChannelLogFollower follower, ChannelIndexer indexer, Watchtower watchtower,
                           ChannelStore store, Batcher batcher, ChannelSettings settings, BackendProperties properties,
                           MeterRegistry registry) {
        this.follower = follower;
        this.indexer = indexer;
        this.watchtower = watchtower;
        this.store = store;
        this.batcher = batcher;
        this.settings = settings;
        this.confirmations = properties.confirmations();
        Gauge.builder("agentescrow.channels.active", active, AtomicLong::doubleValue)
                .description("channels pending, open or closing (from the indexed contract state)").register(registry);
        Gauge.builder("agentescrow.channels.closed", closed, AtomicLong::doubleValue)
                .description("channels settled (from the indexed contract state)").register(registry);
    }

    @Scheduled(fixedDelayString = "${agentescrow.channels.poll-interval:PT1S}")
    public void tick() {
        if (batcher.role() == Role.LEADER) {
            try {
                follower.poll(indexer, confirmations);
            } catch (RuntimeException e) {
                log.warn("reading the channel events failed; tried again at the next poll", e);
            }
            if (settings.watchtowerEnabled()) {
                try {
                    watchtower.run();
                } catch (RuntimeException e) {
                    log.warn("the watchtower's run failed; tried again at the next poll", e);
                }
            }
        }
        refreshGauges();
    }

    private void refreshGauges() {
        active.set(store.count(ChannelState.PENDING) + store.count(ChannelState.OPEN) + store.count(ChannelState.CLOSING));
        closed.set(store.count(ChannelState.SETTLED));
    }
}
