package dev.agentescrow.batcher.chain;

import java.time.Duration;
import java.util.Objects;

/**
 * How RPC calls to the chain are retried and when they stop being tried at all.
 *
 * @param maxAttempts attempts per call, the first included (at least 1)
 * @param initialBackoff wait before the second attempt
 * @param backoffMultiplier growth of the wait per further attempt (at least 1)
 * @param maxBackoff upper bound of one wait
 * @param jitterFactor randomization of each wait, in [0, 1): the wait is drawn from
 *     {@code wait * (1 +- jitterFactor)} so that many callers do not retry in lockstep
 * @param failureRatePercent share of failed calls in the sliding window that opens the circuit
 * @param slidingWindowCalls number of recent calls the failure rate is computed over
 * @param openStateWait how long an open circuit rejects calls before letting probes through
 * @param halfOpenProbeCalls calls let through in the half-open state to decide whether to close
 */
public record RpcResilienceConfig(int maxAttempts, Duration initialBackoff, double backoffMultiplier,
                                  Duration maxBackoff, double jitterFactor, float failureRatePercent,
                                  int slidingWindowCalls, Duration openStateWait, int halfOpenProbeCalls) {
    public RpcResilienceConfig {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        Objects.requireNonNull(openStateWait, "openStateWait");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 0 < initialBackoff <= maxBackoff");
        }
        if (backoffMultiplier < 1) {
            throw new IllegalArgumentException("backoffMultiplier must be at least 1: " + backoffMultiplier);
        }
        if (jitterFactor < 0 || jitterFactor >= 1) {
            throw new IllegalArgumentException("jitterFactor must be in [0, 1): " + jitterFactor);
        }
        if (failureRatePercent <= 0 || failureRatePercent > 100) {
            throw new IllegalArgumentException("failureRatePercent must be in (0, 100]: " + failureRatePercent);
        }
        if (slidingWindowCalls < 1 || halfOpenProbeCalls < 1) {
            throw new IllegalArgumentException("slidingWindowCalls and halfOpenProbeCalls must be positive");
        }
        if (openStateWait.isNegative() || openStateWait.isZero()) {
            throw new IllegalArgumentException("openStateWait must be positive");
        }
    }

    /**
     * Defaults for a remote node: 6 attempts starting at 200 ms, doubling up to 5 s, 50% jitter;
     * the circuit opens when half of the last 20 calls failed and probes again after 30 s.
     */
    public static RpcResilienceConfig defaults() {
        return new RpcResilienceConfig(6, Duration.ofMillis(200), 2.0, Duration.ofSeconds(5), 0.5, 50f, 20,
                Duration.ofSeconds(30), 2);
    }
}
