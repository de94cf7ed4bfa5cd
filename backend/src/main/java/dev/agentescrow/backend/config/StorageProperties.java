package dev.agentescrow.backend.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The service's connection pool and the embedded ledger's settings (bound from
 * {@code agentescrow.storage.*}; application.yml names the environment variables).
 *
 * @param poolSize connections of the service's pool, shared by the batcher and the requests: the
 *     election's lock session and the ledger writer hold one each for their life, the index/settle
 *     and the reconcile lanes one each while they run; the rest serve requests
 * @param ledgerQueueCapacity submissions waiting for the ledger writer; beyond it a write fails fast
 * @param ledgerRequestTimeout how long a ledger write waits for its result
 * @param ledgerMaxAccounts accounts the ledger writer holds in memory
 * @param ledgerMaxOpenHolds open holds the ledger writer holds in memory
 */
@ConfigurationProperties("agentescrow.storage")
public record StorageProperties(
        @DefaultValue("24") int poolSize,
        @DefaultValue("65536") int ledgerQueueCapacity,
        @DefaultValue("PT30S") Duration ledgerRequestTimeout,
        @DefaultValue("10000000") int ledgerMaxAccounts,
        @DefaultValue("1000000") int ledgerMaxOpenHolds) {

    /** Connections the batcher keeps for itself: lock session, ledger writer, index/settle lane, reconcile lane. */
    public static final int BATCHER_CONNECTIONS = 4;

    public StorageProperties {
        if (poolSize < BATCHER_CONNECTIONS + 2) {
            throw new IllegalArgumentException("agentescrow.storage.pool-size must be at least "
                    + (BATCHER_CONNECTIONS + 2) + " (" + BATCHER_CONNECTIONS + " for the batcher, the rest for requests): "
                    + poolSize);
        }
    }
}
