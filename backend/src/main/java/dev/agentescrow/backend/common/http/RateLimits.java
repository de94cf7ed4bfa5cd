package dev.agentescrow.backend.common.http;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets per key (a principal or an IP): {@code perSecond} requests a second with bursts of
 * as many. At most {@link #MAX_KEYS} keys are held; beyond that the table starts over (a burst
 * then passes once, never a refusal too many).
 */
final class RateLimits {
    static final int MAX_KEYS = 100_000;

    private final long perSecond;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    RateLimits(long perSecond) {
        this.perSecond = perSecond;
    }

    /** Empty if the request may pass, else the seconds to wait. */
    OptionalLong tryAcquire(String key) {
        if (buckets.size() > MAX_KEYS) {
            buckets.clear();
        }
        Bucket bucket = buckets.computeIfAbsent(key, k -> Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(perSecond).refillGreedy(perSecond, Duration.ofSeconds(1)).build())
                .build());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L));
    }
}
