package dev.agentescrow.backend.common.web;

import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;
import org.springdoc.core.customizers.OpenApiCustomizer;

/**
 * What every feature adds to the OpenAPI document: its error codes in the document's
 * {@code x-error-codes} (merged with the codes already there), and {@code application/problem+json}
 * as the body of every 4xx and 5xx answer of its paths.
 */
public final class FeatureOpenApi {
    private FeatureOpenApi() {
    }

    /**
     * @param codes the feature's codes and what each means (may be empty)
     * @param paths which of the document's paths belong to the feature
     */
    public static OpenApiCustomizer errorCodes(Map<String, String> codes, Predicate<String> paths) {
        return openApi -> {
            if (!codes.isEmpty()) {
                Object existing = openApi.getExtensions() == null ? null : openApi.getExtensions().get("x-error-codes");
                Map<String, Object> merged = new LinkedHashMap<>();
                if (existing instanceof Map<?, ?> map) {
                    map.forEach((k, v) -> merged.put(String.valueOf(k), v));
                }
                merged.putAll(codes);
                openApi.addExtension("x-error-codes", merged);
            }
            if (openApi.getPaths() == null) {
                return;
            }
            openApi.getPaths().forEach((path, item) -> {
                if (paths.test(path)) {
                    item.readOperations().forEach(operation -> operation.getResponses().forEach((status, response) -> {
                        if (status.startsWith("4") || status.startsWith("5")) {
                            MediaType problem = new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"));
                            if (response.getContent() == null) {
                                response.setContent(new Content().addMediaType("application/problem+json", problem));
                            } else if (!response.getContent().containsKey("application/problem+json")) {
                                response.getContent().addMediaType("application/problem+json", problem);
                            }
                        }
                    }));
                }
            });
        };
    }
}
