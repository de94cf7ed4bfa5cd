package dev.agentescrow.batcher.chain;

import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ContractRevertedException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Runs RPC calls to the chain under a resilience4j {@link Retry} (exponential backoff with
 * jitter) around a {@link CircuitBreaker}. Only infrastructure failures ({@link ChainException})
 * are retried and counted as failures; a {@link ContractRevertedException} is the contract's
 * deterministic answer, so it is neither retried nor held against the node. While the circuit is
 * open, calls fail at once with {@link ChainUnavailableException} instead of waiting on a node
 * that is down.
 *
 * <p>Retrying is safe only for calls that are idempotent on the chain: reads, and sends whose
 * effect the contract itself makes idempotent (the vault's strictly sequential batch ids). The
 * caller decides what it wraps.
 */
public final class ResilientRpc {
    private final Retry retry;
    private final CircuitBreaker circuitBreaker;

    public ResilientRpc(String name, RpcResilienceConfig config) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        this.circuitBreaker = CircuitBreaker.of(name, CircuitBreakerConfig.custom()
                .failureRateThreshold(config.failureRatePercent())
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(config.slidingWindowCalls())
                .minimumNumberOfCalls(config.slidingWindowCalls())
                .waitDurationInOpenState(config.openStateWait())
                .permittedNumberOfCallsInHalfOpenState(config.halfOpenProbeCalls())
                .recordException(ResilientRpc::isInfrastructureFailure)
                .build());
        this.retry = Retry.of(name, RetryConfig.custom()
                .maxAttempts(config.maxAttempts())
                .intervalFunction(IntervalFunction.ofExponentialRandomBackoff(config.initialBackoff(),
                        config.backoffMultiplier(), config.jitterFactor(), config.maxBackoff()))
                .retryOnException(ResilientRpc::isInfrastructureFailure)
                .failAfterMaxAttempts(false)
                .build());
    }

    /** Runs {@code call}, retrying infrastructure failures; a revert or other exception passes through. */
    public <T> T call(Supplier<T> call) {
        Supplier<T> guarded = CircuitBreaker.decorateSupplier(circuitBreaker, call);
        try {
            return Retry.decorateSupplier(retry, guarded).get();
        } catch (CallNotPermittedException e) {
            throw new ChainUnavailableException("chain circuit '" + circuitBreaker.getName() + "' is open", e);
        } catch (ContractRevertedException e) {
            throw e;
        } catch (ChainException e) {
            throw new ChainUnavailableException("chain call failed after " + retry.getRetryConfig().getMaxAttempts()
                    + " attempts: " + e.getMessage(), e);
        }
    }

    public CircuitBreaker.State circuitState() {
        return circuitBreaker.getState();
    }

    public CircuitBreaker circuitBreaker() {
        return circuitBreaker;
    }

    public Retry retry() {
        return retry;
    }

    private static boolean isInfrastructureFailure(Throwable failure) {
        return failure instanceof ChainException && !(failure instanceof ContractRevertedException)
                && !(failure instanceof ChainUnavailableException);
    }
}
