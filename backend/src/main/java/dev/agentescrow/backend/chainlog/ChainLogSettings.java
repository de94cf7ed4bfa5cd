package dev.agentescrow.backend.chainlog;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The contract-log followers' settings, bound from {@code agentescrow.chainlog.*}; the confirmations
 * are the service's {@code agentescrow.confirmations} ({@code CONFIRMATIONS}).
 *
 * @param pollInterval how often the leader polls every follower
 * @param maxBlocksPerPoll the most blocks one poll reads (one {@code eth_getLogs}); a follower that is
 *                         behind catches up over several polls
 * @param retainedBlocks how many blocks below the cursor keep their hashes: the deepest reorganisation
 *                       undone precisely (a deeper one rewinds the follower to its start block)
 */
@ConfigurationProperties("agentescrow.chainlog")
public record ChainLogSettings(
        @DefaultValue("PT1S") Duration pollInterval,
        @DefaultValue("1000") int maxBlocksPerPoll,
        @DefaultValue("256") int retainedBlocks) {

    public ChainLogSettings {
        if (maxBlocksPerPoll < 1 || maxBlocksPerPoll > 10_000) {
            throw new IllegalArgumentException("agentescrow.chainlog.max-blocks-per-poll must be in [1, 10000]");
        }
        if (retainedBlocks < 1) {
            throw new IllegalArgumentException("agentescrow.chainlog.retained-blocks must be at least 1");
        }
    }
}
