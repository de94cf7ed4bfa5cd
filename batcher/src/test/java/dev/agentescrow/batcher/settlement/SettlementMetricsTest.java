package dev.agentescrow.batcher.settlement;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SettlementMetricsTest {
    @Test
    void recordsBatchesByStateSizeGasAndLatency() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong nanos = new AtomicLong(1_000);
        SettlementMetrics metrics = new SettlementMetrics(registry, nanos::get);

        metrics.built(1, 100);
        metrics.submitted();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1_500));
        metrics.confirmed(1, 100, 80_000);
        metrics.built(2, 40);
        metrics.submitted();
        metrics.reverted(2, 3);

        assertThat(registry.counter("settlement.batches", "state", "built").count()).isEqualTo(2);
        assertThat(registry.counter("settlement.batches", "state", "submitted").count()).isEqualTo(2);
        assertThat(registry.counter("settlement.batches", "state", "confirmed").count()).isEqualTo(1);
        assertThat(registry.counter("settlement.batches", "state", "reverted").count()).isEqualTo(1);
        assertThat(registry.get("settlement.batch.movements").summary().totalAmount()).isEqualTo(140);
        assertThat(registry.get("settlement.batch.gas").summary().totalAmount()).isEqualTo(80_000);
        assertThat(registry.get("settlement.gas.per.transfer").summary().max()).isEqualTo(800);
        assertThat(registry.get("settlement.latency").timer().count()).isEqualTo(1);
        assertThat(registry.get("settlement.latency").timer().totalTime(TimeUnit.MILLISECONDS)).isEqualTo(1_500);
        assertThat(registry.get("settlement.movements.quarantined").counter().count()).isEqualTo(3);
    }

    @Test
    void theOperatorsEthIsAGaugeWithALowBalanceAlarm() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SettlementMetrics metrics = new SettlementMetrics(registry).withLowBalanceAlarm(BigInteger.valueOf(1_000));
        assertThat(metrics.operatorBalance(BigInteger.valueOf(5_000))).isFalse();
        assertThat(registry.get("settlement.operator.balance").gauge().value()).isEqualTo(5_000);
        assertThat(registry.get("settlement.operator.balance.low").gauge().value()).isZero();
        assertThat(metrics.operatorBalance(BigInteger.valueOf(999))).isTrue();
        assertThat(registry.get("settlement.operator.balance.low").gauge().value()).isEqualTo(1);
    }

    @Test
    void aBatchConfirmedAfterARestartHasNoLatencySample() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new SettlementMetrics(registry).confirmed(7, 10, 50_000);

        assertThat(registry.get("settlement.latency").timer().count()).isZero();
        assertThat(registry.counter("settlement.batches", "state", "confirmed").count()).isEqualTo(1);
    }
}
