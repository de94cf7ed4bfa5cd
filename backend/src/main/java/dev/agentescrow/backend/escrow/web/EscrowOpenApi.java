package dev.agentescrow.backend.escrow.web;

import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The escrow operations' refusals (documented with their codes per status) carry the problem+json schema. */
@Configuration(proxyBeanMethods = false)
public class EscrowOpenApi {
    @Bean
    OpenApiCustomizer escrowProblemContent() {
        return openApi -> openApi.getPaths().forEach((path, item) -> {
            if (path.startsWith("/api/v1/escrows")) {
                item.readOperations().forEach(operation -> operation.getResponses().forEach((status, response) -> {
                    if (status.startsWith("4") && response.getContent() == null) {
                        response.setContent(new Content().addMediaType("application/problem+json",
                                new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))));
                    }
                }));
            }
        });
    }
}
