package dev.agentescrow.backend.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.Map;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import tools.jackson.databind.JsonNode;

/**
 * Fresh agents for ITs that must not share a dev account's balances: a new random key, signed in
 * with a SIWE message built and signed by the npm siwe package.
 */
public final class FreshAgents {
    private FreshAgents() {
    }

    /** A signed-in fresh key: its EIP-55 address, its access token and the key (for chain transactions). */
    public record FreshAgent(String address, String accessToken, Credentials key) {
    }

    /** A new random key, signed in. */
    public static FreshAgent signIn(ApiClient api) {
        try {
            return signIn(api, Credentials.create(Keys.createEcKeyPair()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code key} signed in (e.g. a {@link TestChain#fundedFreshKey()} that sends transactions). */
    public static FreshAgent signIn(ApiClient api, Credentials key) {
        JsonNode nonce = api.post("/api/v1/auth/nonce", null, null, "{}").json();
        Map<String, Object> input = new HashMap<>(Map.of(
                "privateKey", TestChain.privateKey(key),
                "domain", nonce.path("domain").asString(), "uri", nonce.path("uri").asString(),
                "chainId", nonce.path("chainId").asLong(), "nonce", nonce.path("nonce").asString()));
        JsonNode signed = ApiClient.JSON.readTree(NodeScripts.run("siwe-sign.js", ApiClient.JSON.writeValueAsString(input)));
        ApiClient.Response login = api.post("/api/v1/auth/login", null, null, Map.of(
                "message", signed.path("message").asString(), "signature", signed.path("signature").asString()));
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        return new FreshAgent(Keys.toChecksumAddress(key.getAddress()), login.json().path("accessToken").asString(), key);
    }
}
