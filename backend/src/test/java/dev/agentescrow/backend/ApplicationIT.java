package dev.agentescrow.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import org.junit.jupiter.api.Test;

class ApplicationIT extends BackendITSupport {

    @Test
    void health_reports_database_chain_and_batcher_up() {
        ApiClient.Response health = api().get("/actuator/health", null);
        assertThat(health.status()).as(health.toString()).isEqualTo(200);
        assertThat(health.json().path("status").asString()).isEqualTo("UP");
        assertThat(health.json().path("components").path("db").path("status").asString()).isEqualTo("UP");
        assertThat(health.json().path("components").path("chain").path("status").asString()).isEqualTo("UP");
        assertThat(health.json().path("components").path("batcher").path("status").asString()).isEqualTo("UP");
    }

    @Test
    void serves_openapi_3_1_and_prometheus_metrics() {
        ApiClient.Response docs = api().get("/v3/api-docs", null);
        assertThat(docs.status()).isEqualTo(200);
        assertThat(docs.json().path("openapi").asString()).startsWith("3.1");
        for (String path : new String[] {"/api/v1/auth/nonce", "/api/v1/auth/login", "/api/v1/auth/api-keys",
                "/api/v1/auth/api-keys/{id}", "/api/v1/tokens", "/api/v1/accounts/me", "/api/v1/transfers",
                "/api/v1/transfers/batch", "/api/v1/transfers/{id}", "/api/v1/withdrawals", "/api/v1/withdrawals/{id}",
                "/api/v1/batches", "/api/v1/batches/{id}", "/api/v1/deposits", "/api/v1/deposits/instructions",
                "/api/v1/faucet", "/api/v1/admin/verify", "/api/v1/audit"}) {
            assertThat(docs.json().path("paths").has(path)).as(path).isTrue();
        }
        assertThat(docs.json().path("paths").path("/api/v1/transfers").path("post").path("responses").path("422")
                .path("content").has("application/problem+json")).isTrue();
        assertThat(docs.json().path("components").path("securitySchemes").has("bearer")).isTrue();
        var paths = docs.json().path("paths");
        assertThat(paths.has("/api/v1/accounts/me/transfers")).isTrue();
        var pay = paths.path("/api/v1/transfers").path("post");
        assertThat(pay.path("requestBody").path("content").path("application/json").path("example").has("to")).isTrue();
        assertThat(pay.path("responses").path("201").toString()).contains("\"sequence\"").contains("committedAt");
        assertThat(pay.path("responses").path("422").path("description").asString()).contains("DAILY_LIMIT_EXCEEDED");
        assertThat(paths.path("/api/v1/accounts/me/transfers").path("get").path("responses").path("400").toString())
                .contains("INVALID_CURSOR");
        assertThat(paths.path("/api/v1/batches/{id}").path("get").path("responses").path("200").toString())
                .contains("gasPerTransfer");
        var codes = docs.json().path("x-error-codes");
        for (String code : new String[] {"NOT_YET_VISIBLE", "INVALID_CURSOR", "DAILY_LIMIT_EXCEEDED", "NOT_FOUND",
                "UNAUTHENTICATED", "IDEMPOTENCY_KEY_REUSED", "RATE_LIMITED", "SIWE_BAD_SIGNATURE"}) {
            assertThat(codes.path(code).asString()).as(code).isNotBlank();
        }
        ApiClient.Response metrics = api().get("/actuator/prometheus", null);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.raw().body()).contains("jvm_memory_used_bytes");
    }

    @Test
    void lists_the_deployment_token_with_the_vault() {
        ApiClient.Response tokens = api().get("/api/v1/tokens", null);
        assertThat(tokens.status()).isEqualTo(200);
        assertThat(tokens.json().path("tokens").get(0).path("address").asString())
                .isEqualTo(CHAIN.deployment().token().checksummed());
        assertThat(tokens.json().path("tokens").get(0).path("decimals").asInt()).isEqualTo(6);
        assertThat(tokens.json().path("tokens").get(0).path("vault").asString())
                .isEqualTo(CHAIN.deployment().vault().checksummed());
    }

    @Test
    void an_unauthenticated_call_is_a_401_problem() {
        ApiClient.Response me = api().get("/api/v1/accounts/me", null);
        assertThat(me.status()).isEqualTo(401);
        assertThat(me.header("Content-Type")).startsWith("application/problem+json");
        assertThat(me.code()).isEqualTo("UNAUTHENTICATED");
    }
}
