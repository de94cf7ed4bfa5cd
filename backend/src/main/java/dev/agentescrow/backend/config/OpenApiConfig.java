package dev.agentescrow.backend.config;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The OpenAPI document: bearer authentication (SIWE access token or API key) and the problem+json
 * answers every operation may give, with their stable codes.
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfig {
    static final Map<String, String> PROBLEMS = Map.of(
            "400", "VALIDATION_FAILED (errors[]), MALFORMED_JSON, UNKNOWN_FIELD, IDEMPOTENCY_KEY_MISSING, IDEMPOTENCY_KEY_INVALID, INVALID_CURSOR",
            "401", "UNAUTHENTICATED, INVALID_TOKEN, SIWE_MALFORMED, SIWE_DOMAIN_MISMATCH, SIWE_URI_MISMATCH, "
                    + "SIWE_CHAIN_MISMATCH, SIWE_EXPIRED, SIWE_NOT_YET_VALID, SIWE_BAD_SIGNATURE, SIWE_NONCE_UNKNOWN, "
                    + "SIWE_NONCE_EXPIRED",
            "403", "FORBIDDEN, API_KEY_NOT_ALLOWED",
            "404", "NOT_FOUND (also another principal's resource)",
            "409", "IDEMPOTENCY_REQUEST_IN_FLIGHT, TRANSFER_ID_CONFLICT, API_KEY_LIMIT",
            "413", "BODY_TOO_LARGE",
            "422", "IDEMPOTENCY_KEY_REUSED, INSUFFICIENT_FUNDS, UNKNOWN_TOKEN, TRANSFER_LIMIT_EXCEEDED, "
                    + "DAILY_LIMIT_EXCEEDED, AMOUNT_EXCEEDS_LIMIT, BALANCE_EXCEEDS_LIMIT, SAME_ACCOUNT and the ledger's other result codes",
            "429", "RATE_LIMITED (Retry-After)",
            "503", "LEDGER_UNAVAILABLE, CHAIN_UNAVAILABLE, NOT_YET_VISIBLE (Retry-After)");

    @Bean
    OpenAPI openApi() {
        Schema<?> problem = new ObjectSchema()
                .addProperty("type", new StringSchema()).addProperty("title", new StringSchema())
                .addProperty("status", new IntegerSchema()).addProperty("detail", new StringSchema())
                .addProperty("instance", new StringSchema())
                .addProperty("code", new StringSchema().description("stable error code"))
                .addProperty("errors", new io.swagger.v3.oas.models.media.ArraySchema().items(new ObjectSchema()
                        .addProperty("field", new StringSchema()).addProperty("code", new StringSchema())
                        .addProperty("message", new StringSchema())));
        return new OpenAPI()
                .info(new Info().title("Agent escrow API").version("v1").description(
                        "Amounts are decimal strings of base units; addresses EIP-55 in responses, any case in requests. "
                                + "Every POST takes an Idempotency-Key."))
                .components(new Components().addSchemas("Problem", problem).addSecuritySchemes("bearer",
                        new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                                .description("SIWE access token (POST /api/v1/auth/login) or API key (aek_...)")))
                .addSecurityItem(new SecurityRequirement().addList("bearer"));
    }

    @Bean
    OpenApiCustomizer problemResponses() {
        return openApi -> openApi.getPaths().values().forEach(path -> path.readOperations().forEach(operation ->
                PROBLEMS.forEach((status, codes) -> operation.getResponses().putIfAbsent(status, new ApiResponse()
                        .description(codes)
                        .content(new Content().addMediaType("application/problem+json",
                                new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem"))))))));
    }
}
