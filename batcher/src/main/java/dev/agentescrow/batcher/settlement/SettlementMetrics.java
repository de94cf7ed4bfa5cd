package dev.agentescrow.batcher.settlement;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicInteger;
import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Micrometer meters of batch settlement:
 * <ul>
 *   <li>{@code settlement.batches} (counter, tag {@code state}): batches entering each state;</li>
 *   <li>{@code settlement.batch.movements}: movements per built batch;</li>
 *   <li>{@code settlement.batch.gas} and {@code settlement.gas.per.transfer}: gas of confirmed batches;</li>
 *   <li>{@code settlement.latency} (timer): from building a batch to seeing it confirmed, measured
 *       in this process (a batch confirmed after a restart has no sample);</li>
 *   <li>{@code settlement.movements.quarantined} (counter): movements taken out of settlement;</li>
 *   <li>{@code settlement.accounts.registered} (counter): accounts registered with the vault so
 *       that a batch could credit them;</li>
 *   <li>{@code settlement.operator.balance} (gauge, wei): the operator's ETH, read before each
 *       batch is signed, and {@code settlement.operator.balance.low} (gauge, 1 or 0): whether it is
 *       below the alarm threshold ({@link #withLowBalanceAlarm}; off by default). Alert on it: an
 *       operator without ETH cannot settle, and forced withdrawals would miss their deadlines.</li>
 *   <li>{@code settlement.transactions.replaced} (counter): stuck batch transactions replaced at
 *       their nonce with higher fees;</li>
 *   <li>{@code settlement.fee.capped} (gauge, 1 or 0): 1 while a batch waits unmined at the fee
 *       cap, or is not signed because the cap is below the base fee. Alert on it.</li>
 * </ul>
 */
public final class SettlementMetrics {
    private final MeterRegistry registry;
    private final LongSupplier nanoTime;
    private final Map<Long, Long> builtAtNanos = new ConcurrentHashMap<>();
    private final DistributionSummary movements;
    private final DistributionSummary gas;
    private final DistributionSummary gasPerTransfer;
    private final Timer latency;
    private final Counter quarantined;
    private final Counter accountsRegistered;
    private final AtomicReference<BigInteger> operatorBalance = new AtomicReference<>(BigInteger.ZERO);
    private final AtomicInteger operatorBalanceLow = new AtomicInteger();
    private final Counter replaced;
    private final AtomicInteger feeCapped = new AtomicInteger();
    private volatile BigInteger lowBalanceWei = BigInteger.ZERO;

    public SettlementMetrics(MeterRegistry registry) {
        this(registry, System::nanoTime);
    }

    SettlementMetrics(MeterRegistry registry, LongSupplier nanoTime) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
        this.movements = DistributionSummary.builder("settlement.batch.movements")
                .description("movements per built batch").register(registry);
        this.gas = DistributionSummary.builder("settlement.batch.gas").baseUnit("gas")
                .description("gas used by a confirmed settleBatch").register(registry);
        this.gasPerTransfer = DistributionSummary.builder("settlement.gas.per.transfer").baseUnit("gas")
                .description("gas used by a confirmed batch divided by its movements").register(registry);
        this.latency = Timer.builder("settlement.latency")
                .description("from building a batch to its confirmation").register(registry);
        this.quarantined = Counter.builder("settlement.movements.quarantined")
                .description("movements the vault refused, held back for a person to resolve").register(registry);
        this.accountsRegistered = Counter.builder("settlement.accounts.registered")
                .description("accounts registered with the vault before a batch credited them").register(registry);
        Gauge.builder("settlement.operator.balance", operatorBalance, balance -> balance.get().doubleValue())
                .baseUnit("wei").description("the operator's ETH").register(registry);
        this.replaced = Counter.builder("settlement.transactions.replaced")
                .description("stuck batch transactions replaced at their nonce with higher fees").register(registry);
        Gauge.builder("settlement.fee.capped", feeCapped, AtomicInteger::get)
                .description("1 while a batch waits unmined at the fee cap (or the cap is below the base fee)")
                .register(registry);
        Gauge.builder("settlement.operator.balance.low", operatorBalanceLow, AtomicInteger::get)
                .description("1 while the operator's ETH is below the alarm threshold").register(registry);
    }

    /** Raises {@code settlement.operator.balance.low} whenever the operator holds less than {@code wei}. */
    public SettlementMetrics withLowBalanceAlarm(BigInteger wei) {
        this.lowBalanceWei = Objects.requireNonNull(wei, "wei");
        return this;
    }

    /** Records the operator's ETH; returns whether it is below the alarm threshold. */
    boolean operatorBalance(BigInteger wei) {
        operatorBalance.set(wei);
        boolean low = wei.compareTo(lowBalanceWei) < 0;
        operatorBalanceLow.set(low ? 1 : 0);
        return low;
    }

    /** Meters that go nowhere, for embedding without monitoring. */
    public static SettlementMetrics none() {
        return new SettlementMetrics(new CompositeMeterRegistry());
    }

    void built(long batchId, int movementCount) {
        state(BatchState.BUILT);
        movements.record(movementCount);
        builtAtNanos.put(batchId, nanoTime.getAsLong());
    }

    void submitted() {
        state(BatchState.SUBMITTED);
    }

    void confirmed(long batchId, int movementCount, long gasUsed) {
        state(BatchState.CONFIRMED);
        gas.record(gasUsed);
        if (movementCount > 0) {
            gasPerTransfer.record((double) gasUsed / movementCount);
        }
        Long builtAt = builtAtNanos.remove(batchId);
        if (builtAt != null) {
            latency.record(Duration.ofNanos(nanoTime.getAsLong() - builtAt));
        }
    }

    void reverted(long batchId, int quarantinedCount) {
        state(BatchState.REVERTED);
        quarantined.increment(quarantinedCount);
        builtAtNanos.remove(batchId);
    }

    void replaced() {
        replaced.increment();
    }

    /** Raises ({@code true}) or clears the fee cap alarm. */
    void feeCapped(boolean capped) {
        feeCapped.set(capped ? 1 : 0);
    }

    void accountsRegistered(int count) {
        accountsRegistered.increment(count);
    }

    private void state(BatchState state) {
        registry.counter("settlement.batches", "state", state.name().toLowerCase(Locale.ROOT)).increment();
    }
}
