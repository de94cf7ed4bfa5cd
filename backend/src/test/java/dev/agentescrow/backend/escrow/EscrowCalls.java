package dev.agentescrow.backend.escrow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.FreshAgents;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.web3j.crypto.Credentials;
import tools.jackson.databind.JsonNode;

/** The escrow tests' HTTP calls and answers: sign-in of a fresh key, actions, the escrow, success and refusals. */
final class EscrowCalls {
    private EscrowCalls() {
    }

    /** Signs {@code key} in with a SIWE message built and signed by the npm siwe package; the access token. */
    static String signIn(ApiClient api, Credentials key) {
        return FreshAgents.signIn(api, key).accessToken();
    }

    static ApiClient.Response action(ApiClient api, String accessToken, String id, String action, Object body) {
        return api.post("/api/v1/escrows/" + id + "/" + action, accessToken, UUID.randomUUID().toString(), body);
    }

    static JsonNode get(ApiClient api, String accessToken, String id) {
        return ok(api.get("/api/v1/escrows/" + id, accessToken));
    }

    static JsonNode ok(ApiClient.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    static void refused(ApiClient.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.code()).as(response.toString()).isEqualTo(code);
    }

    /** The actions of the escrow's history, in order. */
    static List<String> actions(JsonNode escrow) {
        List<String> out = new ArrayList<>();
        escrow.path("history").forEach(h -> out.add(h.path("action").asString()));
        return out;
    }
}
