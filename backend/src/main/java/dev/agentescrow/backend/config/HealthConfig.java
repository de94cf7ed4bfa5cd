package dev.agentescrow.backend.config;

import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.SettlementGateway;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import java.time.Clock;
import java.time.Duration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Health beyond the database's: the chain node, and the batcher (writer role and settlement lag). */
@Configuration(proxyBeanMethods = false)
public class HealthConfig {

    @Bean
    HealthIndicator chainHealthIndicator(ChainGateway chain) {
        return () -> {
            try {
                return Health.up().withDetail("chainId", chain.chainId()).withDetail("block", chain.blockNumber()).build();
            } catch (RuntimeException e) {
                return Health.down().withDetail("error", String.valueOf(e.getMessage())).build();
            }
        };
    }

    /**
     * The embedded batcher: on the leader (the ledger writer, one per database) the lag is the age of
     * the oldest committed movement not yet in a batch, down when that lag passes ten batch
     * intervals; a standby only says so (component {@code leadership} has the role and epoch).
     */
    @Bean
    HealthIndicator batcherHealthIndicator(SettlementGateway settlement, BackendProperties properties, Clock clock,
                                           Batcher batcher) {
        Duration allowed = Duration.ofSeconds(Math.max(60, 10L * properties.batchIntervalSeconds()));
        return () -> {
            if (batcher.role() != Role.LEADER) {
                return Health.up().withDetail("role", "standby").build();
            }
            try {
                UnsettledBacklog backlog = settlement.backlog();
                Duration lag = backlog.oldest().map(oldest -> Duration.between(oldest, clock.instant()))
                        .orElse(Duration.ZERO);
                Health.Builder health = lag.compareTo(allowed) > 0 ? Health.down() : Health.up();
                return health.withDetail("role", "leader").withDetail("unsettled", backlog.count())
                        .withDetail("lagSeconds", lag.toSeconds()).build();
            } catch (RuntimeException e) {
                return Health.down().withDetail("error", String.valueOf(e.getMessage())).build();
            }
        };
    }
}
