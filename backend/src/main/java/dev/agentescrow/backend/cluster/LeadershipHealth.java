package dev.agentescrow.backend.cluster;

import dev.agentescrow.batcher.leadership.LeaderInfo;
import dev.agentescrow.batcher.leadership.LeadershipConfig;
import dev.agentescrow.batcher.runtime.Batcher;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health component {@code leadership}: this instance's role (LEADER or STANDBY), the epoch it was
 * last elected with, its id and advertised address, and the leader the database names (id, epoch,
 * address, last heartbeat). Up in both roles: a standby serves reads and forwards writes. Every
 * role change is logged.
 */
@Component("leadershipHealthIndicator")
public class LeadershipHealth implements HealthIndicator {
    private static final Logger log = LoggerFactory.getLogger(LeadershipHealth.class);

    private final Batcher batcher;
    private final LeadershipConfig self;

    public LeadershipHealth(Batcher batcher, LeadershipConfig self) {
        this.batcher = batcher;
        this.self = self;
        batcher.addLeadershipListener(change -> log.info("instance {} is {} (epoch {}, {}): {}", self.nodeId(),
                change.role(), change.epoch(), change.reason(), change.detail()));
    }

    @Override
    public Health health() {
        Health.Builder health = Health.up().withDetail("role", batcher.role().name())
                .withDetail("epoch", batcher.epoch()).withDetail("instanceId", self.nodeId());
        self.address().ifPresent(address -> health.withDetail("advertisedUrl", address));
        try {
            Optional<LeaderInfo> leader = batcher.leader();
            leader.ifPresent(info -> {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", info.leaderId());
                row.put("epoch", info.epoch());
                info.address().ifPresent(address -> row.put("address", address));
                row.put("electedAt", String.valueOf(info.electedAt()));
                row.put("heartbeatAt", String.valueOf(info.heartbeatAt()));
                health.withDetail("leader", row);
            });
            return health.build();
        } catch (RuntimeException e) {
            return Health.down().withDetail("role", batcher.role().name()).withDetail("epoch", batcher.epoch())
                    .withDetail("error", String.valueOf(e.getMessage())).build();
        }
    }
}
