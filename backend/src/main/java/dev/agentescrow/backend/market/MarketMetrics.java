package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The marketplace's gauges, read from running totals that triggers on its tables keep in the
 * database (so every instance shows the same, a restart loses nothing, and a refresh reads a few
 * rows however long the marketplace's history: migration {@code V18_2}), every
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

    /** The advisory lock of the fold ("mktsum" in ASCII). */
    static final long FOLD_LOCK_KEY = 0x6d6b7473756dL;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Map<MarketTask.State, AtomicLong> tasks = new EnumMap<>(MarketTask.State.class);
    private final AtomicLong cleared = new AtomicLong();
    private final AtomicLong disputesOpen = new AtomicLong();
    private final AtomicLong disputesDecided = new AtomicLong();
    private final MultiGauge payouts;
    private final MultiGauge outcomes;

    public MarketMetrics(JdbcTemplate jdbc, TransactionTemplate transactions, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.transactions = transactions;
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
            List<Total> totals = transactions.execute(status -> foldAndRead());
            Map<MarketTask.State, Long> byState = new EnumMap<>(MarketTask.State.class);
            long clearedNow = 0;
            long open = 0;
            long decided = 0;
            List<MultiGauge.Row<?>> paid = new ArrayList<>();
            List<MultiGauge.Row<?>> counted = new ArrayList<>();
            for (Total t : totals) {
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

    /** One metric's running total ({@code backend.market_metric_totals}). */
    record Total(String metric, String key1, String key2, BigDecimal value) {
    }

    /**
     * Folds the committed deltas into the totals (one instance at a time: the others read the
     * totals plus the deltas not folded yet, which is the same sum) and reads every metric.
     */
    private List<Total> foldAndRead() {
        Boolean locked = jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, FOLD_LOCK_KEY);
        if (Boolean.TRUE.equals(locked)) {
            jdbc.update("""
                    WITH folded AS (DELETE FROM backend.market_metric_deltas RETURNING metric, key1, key2, delta)
                    INSERT INTO backend.market_metric_totals AS t (metric, key1, key2, value)
                    SELECT metric, key1, key2, sum(delta) FROM folded GROUP BY metric, key1, key2
                    ON CONFLICT (metric, key1, key2) DO UPDATE SET value = t.value + EXCLUDED.value""");
        }
        return jdbc.query("""
                SELECT metric, key1, key2, sum(value) FROM (
                    SELECT metric, key1, key2, value FROM backend.market_metric_totals
                    UNION ALL SELECT metric, key1, key2, delta FROM backend.market_metric_deltas) x
                GROUP BY metric, key1, key2 ORDER BY metric, key1, key2""",
                (rs, n) -> new Total(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBigDecimal(4)));
    }
}
