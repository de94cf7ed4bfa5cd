package dev.agentescrow.backend.fee.web;

import dev.agentescrow.backend.fee.FeeRefusal;
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
    /** Every code the fee feature answers beyond the service-wide ones, and what it means. */
    static final Map<String, String> CODES = codes();

    private static Map<String, String> codes() {
        Map<String, String> codes = new TreeMap<>();
        for (FeeRefusal refusal : FeeRefusal.values()) {
            codes.put(refusal.code(), refusal.status() + ": " + refusal.message());
        }
        codes.put("ESCROW_FEE_ABOVE_MAX", "422: the platform and protocol fees together are above the maximum the"
                + " payer accepts (maxFeeBps)");
        return codes;
    }

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
