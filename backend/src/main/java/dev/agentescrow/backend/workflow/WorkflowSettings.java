package dev.agentescrow.backend.workflow;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Workflows' settings, bound from {@code agentescrow.workflow.*}.
 *
 * @param maxDuration how far ahead a step's deadline may be
 * @param sweepInterval how often the leader fails the steps past their deadline
 */
@ConfigurationProperties("agentescrow.workflow")
public record WorkflowSettings(
        @DefaultValue("P30D") Duration maxDuration,
        @DefaultValue("PT1S") Duration sweepInterval) {
}
