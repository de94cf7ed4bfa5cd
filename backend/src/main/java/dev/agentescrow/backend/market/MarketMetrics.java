package dev.agentescrow.backend.market;

import dev.agentescrow.backend.common.db.RunningTotals;
import dev.agentescrow.chain.Address;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The marketplace's gauges, read from running totals that triggers on its tables keep in the
 * database (so every instance shows the same, a restart loses nothing, and a refresh reads a few
 * rows however long the marketplace's history: {@link RunningTotals}), every
 * {@code agentescrow.market.metrics-interval} (1 s by default):
 * <ul>
 * <li>{@code agentescrow_market_tasks{state}}: tasks in each state;</li>
 * <li>{@code agentescrow_market_auctions_cleared}: auctions that allocated a winner;</li>
 * <li>{@code agentescrow_market_payouts{kind,token}}: what scored, decided and closed work paid its agents, base units;</li>
 * <li>{@code agentescrow_market_disputes{state}}: disputed failures of tasks and requests awaiting the arbiter ({@code open})
 *     and decided ({@code decided});</li>
 * <li>{@code agentescrow_market_outcomes{kind,result}}: the outcomes reputation is computed from.</li>
 * </ul>
 */
@Component
public class MarketMetrics {
    private static final Logger log = LoggerFactory.getLogger(MarketMetrics.class);

    /** The running totals this reads ({@link RunningTotals}). */
    static final List<String> METRICS = List.of("tasks", "cleared", "disputes", "payouts", "outcomes");

    private final RunningTotals runningTotals;
    private final Map<MarketTask.State, AtomicLong> tasks = new EnumMap<>(MarketTask.State.class);
    private final AtomicLong cleared = new AtomicLong();
    private final AtomicLong disputesOpen = new AtomicLong();
    private final AtomicLong disputesDecided = new AtomicLong();
    private final MultiGauge payouts;
    private final MultiGauge outcomes;

    public MarketMetrics(RunningTotals runningTotals, MeterRegistry registry) {
        this.runningTotals = runningTotals;
        for (MarketTask.State state : MarketTask.State.values()) {
            AtomicLong count = new AtomicLong();
            tasks.put(state, count);
            Gauge.builder("agentescrow.market.tasks", count, AtomicLong::doubleValue).tag("state", state.name())
                    .description("marketplace tasks in each state").register(registry);
        }
        Gauge.builder("agentescrow.market.auctions.cleared", cleared, AtomicLong::doubleValue)
                .description("task auctions that allocated a winner (and funded its escrow)").register(registry);
        Gauge.builder("agentescrow.market.disputes", disputesOpen, AtomicLong::doubleValue).tag("state", "open")
                .description("failures disputed by the winner: awaiting the arbiter, or decided").register(registry);
        Gauge.builder("agentescrow.market.disputes", disputesDecided, AtomicLong::doubleValue).tag("state", "decided")
                .description("failures disputed by the winner: awaiting the arbiter, or decided").register(registry);
        this.payouts = MultiGauge.builder("agentescrow.market.payouts")
                .description("what scored requests and tasks and the arbiter's decisions paid agents, base units")
                .register(registry);
        this.outcomes = MultiGauge.builder("agentescrow.market.outcomes")
                .description("outcomes of agents' work that reputation is computed from").register(registry);
    }

    @Scheduled(fixedDelayString = "${agentescrow.market.metrics-interval:PT1S}")
    public void refresh() {
        try {
            List<RunningTotals.Total> totals = runningTotals.read(METRICS);
            Map<MarketTask.State, Long> byState = new EnumMap<>(MarketTask.State.class);
            long clearedNow = 0;
            long open = 0;
            long decided = 0;
            List<MultiGauge.Row<?>> paid = new ArrayList<>();
            List<MultiGauge.Row<?>> counted = new ArrayList<>();
            for (RunningTotals.Total t : totals) {
                switch (t.metric()) {
                    case "tasks" -> byState.put(MarketTask.State.valueOf(t.key1()), t.value().longValueExact());
                    case "cleared" -> clearedNow = t.value().longValueExact();
                    case "disputes" -> {
                        if (t.key1().equals("open")) {
                            open = t.value().longValueExact();
                        } else {
                            decided = t.value().longValueExact();
                        }
                    }
                    case "payouts" -> paid.add(MultiGauge.Row.of(Tags.of("kind", t.key1(), "token",
                            Address.of(t.key2()).checksummed()), t.value().doubleValue()));
                    case "outcomes" -> counted.add(MultiGauge.Row.of(Tags.of("kind", t.key1(), "result", t.key2()),
                            t.value().longValueExact()));
                    default -> throw new IllegalStateException("unknown market metric " + t.metric());
                }
            }
            tasks.forEach((state, count) -> count.set(byState.getOrDefault(state, 0L)));
            cleared.set(clearedNow);
            disputesOpen.set(open);
            disputesDecided.set(decided);
            payouts.register(paid, true);
            outcomes.register(counted, true);
        } catch (RuntimeException e) {
            log.warn("the marketplace's gauges were not refreshed; tried again at the next interval", e);
        }
    }

}
