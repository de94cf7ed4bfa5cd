package dev.agentescrow.backend.fee.web;

import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The fee feature's error codes in the document's {@code x-error-codes}, and the problem+json schema on its refusals. */
@Configuration(proxyBeanMethods = false)
public class FeeOpenApi {
    static final Map<String, String> CODES = new TreeMap<>(Map.ofEntries(
            Map.entry("FEE_STAKEHOLDER_EXISTS", "409: an active stakeholder has this account already"),
            Map.entry("FEE_STAKEHOLDER_REMOVED", "409: the stakeholder was removed"),
            Map.entry("FEE_STAKEHOLDER_ID_CONFLICT", "422: a stakeholder with other terms was added under this"
                    + " Idempotency-Key"),
            Map.entry("FEE_TOO_MANY_STAKEHOLDERS", "422: the number of active stakeholders is at its limit"
                    + " (agentescrow.fees.max-stakeholders)"),
            Map.entry("FEE_NO_STAKEHOLDERS", "422: a distribution needs at least one active stakeholder"),
            Map.entry("FEE_NOTHING_TO_DISTRIBUTE", "422: no fee was collected since the last period"),
            Map.entry("ESCROW_FEE_ABOVE_MAX", "422: the platform and protocol fees together are above the maximum"
                    + " the payer accepts (maxFeeBps)")));

    @Bean
    OpenApiCustomizer feeProblems() {
        return openApi -> {
            Object existing = openApi.getExtensions() == null ? null : openApi.getExtensions().get("x-error-codes");
            Map<String, Object> codes = new LinkedHashMap<>();
            if (existing instanceof Map<?, ?> map) {
                map.forEach((k, v) -> codes.put(String.valueOf(k), v));
            }
            codes.putAll(CODES);
            openApi.addExtension("x-error-codes", codes);
            openApi.getPaths().forEach((path, item) -> {
                if (path.startsWith("/api/v1/admin/fees") || path.equals("/api/v1/fees")) {
                    item.readOperations().forEach(operation -> operation.getResponses().forEach((status, response) -> {
                        if ((status.startsWith("4") || status.startsWith("5")) && response.getContent() == null) {
                            response.setContent(new Content().addMediaType("application/problem+json",
                                    new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))));
                        }
                    }));
                }
            });
        };
    }
}
