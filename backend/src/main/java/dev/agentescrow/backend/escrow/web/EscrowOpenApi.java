package dev.agentescrow.backend.escrow.web;

import dev.agentescrow.backend.common.web.FeatureOpenApi;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The escrow operations' refusals (documented with their codes per status) carry the problem+json schema. */
@Configuration(proxyBeanMethods = false)
public class EscrowOpenApi {
    @Bean
    OpenApiCustomizer escrowProblemContent() {
        return FeatureOpenApi.errorCodes(Map.of(), p -> p.startsWith("/api/v1/escrows"));
    }
}
