package dev.agentescrow.backend.market;

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
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The marketplace's gauges, read from its rows (so every instance shows the same, and a restart
 * loses nothing), every {@code agentescrow.market.metrics-interval} (1 s by default):
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

    private final JdbcTemplate jdbc;
    private final Map<MarketTask.State, AtomicLong> tasks = new EnumMap<>(MarketTask.State.class);
    private final AtomicLong cleared = new AtomicLong();
    private final AtomicLong disputesOpen = new AtomicLong();
    private final AtomicLong disputesDecided = new AtomicLong();
    private final MultiGauge payouts;
    private final MultiGauge outcomes;

    public MarketMetrics(JdbcTemplate jdbc, MeterRegistry registry) {
        this.jdbc = jdbc;
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
            jdbc.query("SELECT state, count(*) FROM backend.market_tasks GROUP BY state", rs -> {
                tasks.get(MarketTask.State.valueOf(rs.getString(1))).set(rs.getLong(2));
            });
            jdbc.query("SELECT count(*) FILTER (WHERE clearing_price IS NOT NULL),"
                    + " count(*) FILTER (WHERE state = 'DISPUTED') + (SELECT count(*) FROM backend.market_requests"
                    + " WHERE state = 'DISPUTED'), count(*) FILTER (WHERE state = 'RESOLVED')"
                    + " + (SELECT count(*) FROM backend.market_requests WHERE state = 'RESOLVED')"
                    + " FROM backend.market_tasks", rs -> {
                        cleared.set(rs.getLong(1));
                        disputesOpen.set(rs.getLong(2));
                        disputesDecided.set(rs.getLong(3));
                    });
            List<MultiGauge.Row<?>> paid = new ArrayList<>();
            jdbc.query("SELECT 'TASK', token, sum(payout) FROM backend.market_tasks"
                    + " WHERE state IN ('SCORED', 'RESOLVED', 'CLOSED') GROUP BY token"
                    + " UNION ALL SELECT 'REQUEST', token, sum(payout) FROM backend.market_requests"
                    + " WHERE state IN ('SCORED', 'RESOLVED', 'CLOSED') GROUP BY token", rs -> {
                        paid.add(MultiGauge.Row.of(Tags.of("kind", rs.getString(1), "token",
                                Address.of(rs.getString(2)).checksummed()),
                                rs.getBigDecimal(3).doubleValue()));
                    });
            payouts.register(paid, true);
            List<MultiGauge.Row<?>> counted = new ArrayList<>();
            jdbc.query("SELECT kind, result, count(*) FROM backend.market_outcomes GROUP BY kind, result", rs -> {
                counted.add(MultiGauge.Row.of(Tags.of("kind", rs.getString(1), "result", rs.getString(2)),
                        rs.getLong(3)));
            });
            outcomes.register(counted, true);
        } catch (RuntimeException e) {
            log.warn("the marketplace's gauges were not refreshed; tried again at the next interval", e);
        }
    }
}
