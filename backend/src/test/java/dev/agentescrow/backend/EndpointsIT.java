package dev.agentescrow.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each endpoint's refusals: 401 without a token, validation errors, replays, another principal's resource. */
class EndpointsIT extends BackendITSupport {
    private static final int AGENT = 16;
    private static final int OTHER = 17;

    @Test
    void every_protected_endpoint_answers_401_problem_without_a_token() {
        String[][] calls = {
            {"GET", "/api/v1/accounts/me"}, {"GET", "/api/v1/deposits"}, {"GET", "/api/v1/deposits/instructions"},
            {"GET", "/api/v1/transfers/00000000-0000-0000-0000-000000000001"}, {"GET", "/api/v1/withdrawals"},
            {"GET", "/api/v1/batches"}, {"GET", "/api/v1/batches/1"}, {"GET", "/api/v1/audit"},
            {"GET", "/api/v1/auth/api-keys"}, {"POST", "/api/v1/transfers"}, {"POST", "/api/v1/transfers/batch"},
            {"POST", "/api/v1/withdrawals"}, {"POST", "/api/v1/faucet"}, {"POST", "/api/v1/admin/verify"},
            {"POST", "/api/v1/auth/api-keys"}};
        for (String[] call : calls) {
            ApiClient.Response response = "GET".equals(call[0]) ? api().get(call[1], null)
                    : api().post(call[1], null, key(), "{}");
            assertThat(response.status()).as(call[1]).isEqualTo(401);
            assertThat(response.header("Content-Type")).as(call[1]).startsWith("application/problem+json");
            assertThat(response.code()).as(call[1]).isEqualTo("UNAUTHENTICATED");
        }
    }

    @Test
    void the_admin_endpoint_is_403_problem_for_an_agent() {
        ApiClient.Response response = api().post("/api/v1/admin/verify", login(AGENT), key(), "{}");
        assertThat(response.status()).isEqualTo(403);
        assertThat(response.code()).isEqualTo("FORBIDDEN");
    }

    @Test
    void the_faucet_validates_and_replays() {
        String token = login(AGENT);
        String testToken = CHAIN.deployment().token().checksummed();
        assertThat(api().post("/api/v1/faucet", token, key(), Map.of("token", testToken, "amount", "0")).code())
                .isEqualTo("VALIDATION_FAILED");
        assertThat(api().post("/api/v1/faucet", token, key(), Map.of("token", testToken, "amount", "1000000000000"))
                .status()).isEqualTo(400);
        assertThat(api().post("/api/v1/faucet", token, key(), Map.of("token", address(OTHER), "amount", "1")).code())
                .isEqualTo("UNKNOWN_TOKEN");
        String key = key();
        ApiClient.Response first = api().post("/api/v1/faucet", token, key, Map.of("token", testToken, "amount", "7"));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        ApiClient.Response replay = api().post("/api/v1/faucet", token, key, Map.of("token", testToken, "amount", "7"));
        assertThat(replay.json().path("txHash").asString()).isEqualTo(first.json().path("txHash").asString());
        assertThat(api().post("/api/v1/faucet", token, key, Map.of("token", testToken, "amount", "8")).status())
                .isEqualTo(422);
    }

    @Test
    void withdrawals_validate_replay_and_refuse_what_is_not_there() {
        String token = login(OTHER);
        String testToken = CHAIN.deployment().token().checksummed();
        ApiClient.Response poor = api().post("/api/v1/withdrawals", token, key(), Map.of("token", testToken, "amount", "5"));
        assertThat(poor.status()).isEqualTo(422);
        assertThat(poor.code()).isEqualTo("INSUFFICIENT_FUNDS");
        ApiClient.Response invalid = api().post("/api/v1/withdrawals", token, key(), Map.of("token", "0x12", "amount", "x"));
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.json().path("errors").size()).isEqualTo(2);
        assertThat(api().post("/api/v1/withdrawals", token, null, Map.of("token", testToken, "amount", "5")).code())
                .isEqualTo("IDEMPOTENCY_KEY_MISSING");
        assertThat(api().get("/api/v1/withdrawals", token).json().path("items").size()).isZero();
    }

    @Test
    void a_transfer_under_a_reserved_system_id_is_refused_and_moves_nothing() {
        String token = login(AGENT);
        String testToken = CHAIN.deployment().token().checksummed();
        ApiClient.Response squat = api().post("/api/v1/transfers", token, key(), Map.of("to", address(OTHER),
                "token", testToken, "amount", "1", "reference", "squat", "id", "ffffffff-0000-4000-8000-000000000001"));
        assertThat(squat.status()).as(squat.toString()).isEqualTo(400);
        assertThat(squat.json().path("errors").get(0).path("code").asString()).isEqualTo("RESERVED_ID");
        assertThat(api().get("/api/v1/transfers/ffffffff-0000-4000-8000-000000000001", token).status()).isEqualTo(404);
    }

    @Test
    void deposit_instructions_name_the_permit_and_the_call() {
        String token = login(AGENT);
        String testToken = CHAIN.deployment().token().checksummed();
        ApiClient.Response missing = api().get("/api/v1/deposits/instructions?token=" + testToken, token);
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.json().path("errors").get(0).path("field").asString()).isEqualTo("amount");
        ApiClient.Response instructions = api().get("/api/v1/deposits/instructions?token=" + testToken + "&amount=25",
                token);
        assertThat(instructions.status()).isEqualTo(200);
        assertThat(instructions.json().path("permit").path("primaryType").asString()).isEqualTo("Permit");
        assertThat(instructions.json().path("permit").path("message").path("spender").asString())
                .isEqualTo(CHAIN.deployment().vault().checksummed());
        assertThat(instructions.json().path("permit").path("domain").path("verifyingContract").asString())
                .isEqualTo(testToken);
        assertThat(instructions.json().path("call").path("function").asString())
                .isEqualTo("depositWithPermit(address,uint256,uint256,uint8,bytes32,bytes32)");
        assertThat(api().get("/api/v1/deposits", token).json().path("items").size()).isZero();
    }

    @Test
    void batches_validate_their_paging_and_an_unknown_batch_is_404() {
        String token = login(AGENT);
        assertThat(api().get("/api/v1/batches?limit=0", token).status()).isEqualTo(400);
        assertThat(api().get("/api/v1/batches?limit=5", token).status()).isEqualTo(200);
        ApiClient.Response unknown = api().get("/api/v1/batches/987654321", token);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.code()).isEqualTo("NOT_FOUND");
    }

    @Test
    void an_api_key_create_replays_and_a_conflicting_replay_is_422() {
        String token = login(AGENT);
        String key = key();
        ApiClient.Response first = api().post("/api/v1/auth/api-keys", token, key, Map.of("name", "replayed"));
        ApiClient.Response replay = api().post("/api/v1/auth/api-keys", token, key, Map.of("name", "replayed"));
        assertThat(replay.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        assertThat(api().post("/api/v1/auth/api-keys", token, key, Map.of("name", "other")).code())
                .isEqualTo("IDEMPOTENCY_KEY_REUSED");
        assertThat(api().delete("/api/v1/auth/api-keys/not-a-uuid", token).status()).isEqualTo(400);
    }
}
