package dev.agentescrow.batcher.ledger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Micrometer meters of the ledger:
 * <ul>
 *   <li>{@code ledger.transfers} (counter, tags {@code result} and {@code outcome}): every transfer
 *       result, {@code outcome=accepted} for committed ones (OK, EXISTS), {@code rejected} for the
 *       rest, so rejections can be read by reason;</li>
 *   <li>{@code ledger.submissions.failed} (counter): submissions that failed on infrastructure
 *       (nothing acknowledged);</li>
 *   <li>{@code ledger.queue.depth} (gauge): submissions waiting for the writer.</li>
 * </ul>
 */
public final class LedgerMetrics {
    private final Map<TransferResult, Counter> results = new EnumMap<>(TransferResult.class);
    private final Counter failedSubmissions;
    private final MeterRegistry registry;

    public LedgerMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        for (TransferResult result : TransferResult.values()) {
            results.put(result, Counter.builder("ledger.transfers")
                    .tag("result", result.name().toLowerCase(Locale.ROOT))
                    .tag("outcome", result.committed() ? "accepted" : "rejected")
                    .description("transfer results by code").register(registry));
        }
        this.failedSubmissions = Counter.builder("ledger.submissions.failed")
                .description("submissions failed by an infrastructure error; nothing of them was acknowledged")
                .register(registry);
    }

    /** Meters that go nowhere, for embedding without monitoring. */
    public static LedgerMetrics none() {
        return new LedgerMetrics(new CompositeMeterRegistry());
    }

    void queueDepth(Supplier<Number> depth) {
        Gauge.builder("ledger.queue.depth", depth, d -> d.get().doubleValue())
                .description("submissions waiting for the writer").strongReference(true).register(registry);
    }

    void recorded(List<TransferResult> outcomes) {
        for (TransferResult result : outcomes) {
            results.get(result).increment();
        }
    }

    void recorded(TransferResult result) {
        results.get(result).increment();
    }

    void failed() {
        failedSubmissions.increment();
    }
}
