package dev.agentescrow.backend.cluster;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Several instances on one PostgreSQL (bound from {@code agentescrow.cluster.*}; application.yml
 * names the environment variables).
 *
 * @param instanceId this instance's id, stored as the leader's id while it leads (blank: pid@host)
 * @param advertisedUrl the base URL other instances forward writes to while this one leads (blank:
 *     {@code http://<BIND_ADDRESS>:<PORT>} when the port is fixed, else none)
 * @param forwardConnectTimeout how long a standby waits to connect to the leader
 * @param forwardTimeout how long a standby waits for the leader's answer to a forwarded request;
 *     past it the client gets 503 LEADER_UNAVAILABLE and retries with the same Idempotency-Key
 * @param localWritePaths path prefixes under {@code /api/} whose writes every instance serves itself
 *     (they change the service's own tables, never the ledger): sign-in and API keys
 * @param pollInterval how often a standby tries to take the lead
 * @param heartbeatInterval the leader's heartbeat on its lock session
 * @param heartbeatTimeout the lock session's query and socket timeout
 * @param sessionIdleTimeout the server ends a lock session silent this long (a standby takes over after about this)
 */
@ConfigurationProperties("agentescrow.cluster")
public record ClusterProperties(
        String instanceId,
        String advertisedUrl,
        @DefaultValue("PT2S") Duration forwardConnectTimeout,
        @DefaultValue("PT30S") Duration forwardTimeout,
        @DefaultValue("/api/v1/auth/") List<String> localWritePaths,
        @DefaultValue("PT1S") Duration pollInterval,
        @DefaultValue("PT1S") Duration heartbeatInterval,
        @DefaultValue("PT3S") Duration heartbeatTimeout,
        @DefaultValue("PT5S") Duration sessionIdleTimeout) {
}
