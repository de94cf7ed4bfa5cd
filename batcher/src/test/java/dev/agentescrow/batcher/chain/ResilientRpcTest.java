package dev.agentescrow.batcher.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ContractRevertedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ResilientRpcTest {
    private static RpcResilienceConfig config(int maxAttempts, int window) {
        return new RpcResilienceConfig(maxAttempts, Duration.ofMillis(1), 2.0, Duration.ofMillis(4), 0.5, 50f, window,
                Duration.ofMinutes(10), 1);
    }

    @Test
    void retriesInfrastructureFailuresUntilACallSucceeds() {
        ResilientRpc rpc = new ResilientRpc("test", config(5, 100));
        AtomicInteger attempts = new AtomicInteger();

        long block = rpc.call(() -> {
            if (attempts.incrementAndGet() < 3) {
                throw new ChainException("connection refused");
            }
            return 42L;
        });

        assertThat(block).isEqualTo(42L);
        assertThat(attempts).hasValue(3);
    }

    @Test
    void neverRetriesARevertBecauseTheContractWillSayTheSameAgain() {
        ResilientRpc rpc = new ResilientRpc("test", config(5, 100));
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> rpc.call(() -> {
            attempts.incrementAndGet();
            throw new ContractRevertedException("reverted", "VaultBatchIdMismatch", "0x");
        })).isInstanceOf(ContractRevertedException.class);
        assertThat(attempts).hasValue(1);
        assertThat(rpc.circuitBreaker().getMetrics().getNumberOfFailedCalls()).isZero();
    }

    @Test
    void givesUpAfterMaxAttemptsWithAClearError() {
        ResilientRpc rpc = new ResilientRpc("test", config(4, 100));
        AtomicInteger attempts = new AtomicInteger();

        assertThatThrownBy(() -> rpc.call(() -> {
            attempts.incrementAndGet();
            throw new ChainException("timeout");
        })).isInstanceOf(ChainUnavailableException.class).hasMessageContaining("after 4 attempts");
        assertThat(attempts).hasValue(4);
    }

    @Test
    void anOpenCircuitFailsFastWithoutTouchingTheNode() {
        ResilientRpc rpc = new ResilientRpc("test", config(1, 4));
        AtomicInteger attempts = new AtomicInteger();
        for (int i = 0; i < 4; i++) {
            assertThatThrownBy(() -> rpc.call(() -> {
                attempts.incrementAndGet();
                throw new ChainException("node down");
            })).isInstanceOf(ChainUnavailableException.class);
        }
        assertThat(rpc.circuitState()).isEqualTo(CircuitBreaker.State.OPEN);

        assertThatThrownBy(() -> rpc.call(() -> {
            attempts.incrementAndGet();
            return 1;
        })).isInstanceOf(ChainUnavailableException.class).hasMessageContaining("is open");
        assertThat(attempts).hasValue(4);
    }
}
