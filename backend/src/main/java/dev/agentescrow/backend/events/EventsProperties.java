package dev.agentescrow.backend.events;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Settings of the events (outbox, webhooks, SSE), bound from {@code agentescrow.events.*}.
 *
 * @param pollInterval how often the sequencer and the ledger pollers look for new facts (a
 *        publication on this instance wakes them at once)
 * @param deliveryPollInterval how often the delivery workers look for due deliveries
 * @param allowPrivateAddresses whether webhook URLs may name loopback, private or link-local
 *        addresses (true only in the local profile)
 * @param initialBackoff the wait after a delivery's first failed attempt; doubled per attempt
 * @param maxBackoff the longest wait between two attempts
 * @param maxAttempts attempts per delivery before it is FAILED (with the defaults the last attempt comes at least 37 hours after the first)
 * @param deliveryConcurrency deliveries in flight at once per instance
 * @param connectTimeout the webhook connection timeout
 * @param requestTimeout the wait for the webhook's answer
 * @param maxEndpointsPerOwner active endpoints one principal may hold
 * @param heartbeat the interval of SSE comments that keep idle streams open
 * @param streamLifetime how long one SSE response lasts before the client reconnects (with Last-Event-ID)
 * @param maxStreams SSE streams open at once per instance
 * @param maxStreamsPerOwner SSE streams open at once per principal and instance
 * @param retention how long an event, its feed rows and its finished deliveries are kept (at least
 *        a day; an event with a delivery still pending is kept until it finishes)
 * @param retentionInterval how often the retention deletes what is older
 */
@ConfigurationProperties("agentescrow.events")
public record EventsProperties(
        @DefaultValue("PT0.5S") Duration pollInterval,
        @DefaultValue("PT1S") Duration deliveryPollInterval,
        @DefaultValue("false") boolean allowPrivateAddresses,
        @DefaultValue("PT10S") Duration initialBackoff,
        @DefaultValue("PT4H") Duration maxBackoff,
        @DefaultValue("20") int maxAttempts,
        @DefaultValue("8") int deliveryConcurrency,
        @DefaultValue("PT5S") Duration connectTimeout,
        @DefaultValue("PT10S") Duration requestTimeout,
        @DefaultValue("10") int maxEndpointsPerOwner,
        @DefaultValue("PT15S") Duration heartbeat,
        @DefaultValue("PT30M") Duration streamLifetime,
        @DefaultValue("500") int maxStreams,
        @DefaultValue("5") int maxStreamsPerOwner,
        @DefaultValue("P30D") Duration retention,
        @DefaultValue("PT1M") Duration retentionInterval) {

    public EventsProperties {
        if (maxAttempts < 1 || deliveryConcurrency < 1 || maxEndpointsPerOwner < 1 || maxStreams < 1
                || maxStreamsPerOwner < 1) {
            throw new IllegalArgumentException("agentescrow.events: counts must be positive");
        }
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("agentescrow.events: 0 < initial-backoff <= max-backoff");
        }
        if (retention.compareTo(Duration.ofDays(1)) < 0) {
            throw new IllegalArgumentException("agentescrow.events.retention must be at least a day (P1D)");
        }
        if (retentionInterval.isNegative() || retentionInterval.isZero()) {
            throw new IllegalArgumentException("agentescrow.events.retention-interval must be positive");
        }
    }
}
