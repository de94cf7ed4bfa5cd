package dev.agentescrow.backend.chainlog;

import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.ChainClient;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Runs a {@link ChainLogFollower} for every {@link ChainLogHandler} bean, on the ledger's leader only,
 * every {@code agentescrow.chainlog.poll-interval}: each follower polls until it is up to date (at most
 * {@link #MAX_POLLS_PER_ROUND} ranges per round), one follower's failure never stops another's.
 */
@Component
public class ChainLogs {
    private static final Logger log = LoggerFactory.getLogger(ChainLogs.class);
    /** Ranges one follower reads per round at most (a follower far behind catches up over rounds). */
    static final int MAX_POLLS_PER_ROUND = 10;

    private final List<ChainLogFollower> followers;
    private final Batcher batcher;

    public ChainLogs(ObjectProvider<ChainLogHandler> handlers, ChainClient client, DataSource dataSource, Clock clock,
                     BackendProperties properties, ChainLogSettings settings, Batcher batcher) {
        this.followers = handlers.orderedStream().map(h -> new ChainLogFollower(client, h, dataSource, clock,
                properties.confirmations(), settings)).toList();
        this.batcher = batcher;
    }

    /** The follower of the handler named {@code name}. */
    public Optional<ChainLogFollower> follower(String name) {
        return followers.stream().filter(f -> f.handler().name().equals(name)).findFirst();
    }

    @Scheduled(fixedDelayString = "${agentescrow.chainlog.poll-interval:PT1S}")
    public void pollAll() {
        if (batcher.role() != Role.LEADER) {
            return;
        }
        for (ChainLogFollower follower : followers) {
            try {
                for (int i = 0; i < MAX_POLLS_PER_ROUND; i++) {
                    ChainLogFollower.Outcome outcome = follower.poll().outcome();
                    if (outcome == ChainLogFollower.Outcome.UP_TO_DATE || outcome == ChainLogFollower.Outcome.RETRY) {
                        break;
                    }
                }
            } catch (RuntimeException e) {
                log.warn("follower {}: poll failed, tried again at the next round", follower.handler().name(), e);
            }
        }
    }
}
