package dev.agentescrow.backend.fee.web;

import dev.agentescrow.backend.common.web.FeatureOpenApi;
import dev.agentescrow.backend.fee.FeeRefusal;
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
        return FeatureOpenApi.errorCodes(CODES, p -> p.startsWith("/api/v1/admin/fees") || p.equals("/api/v1/fees"));
    }
}
