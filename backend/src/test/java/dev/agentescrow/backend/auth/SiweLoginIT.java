package dev.agentescrow.backend.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.wrappers.ChannelSmartWallet;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.web3j.crypto.Keys;
import tools.jackson.databind.JsonNode;

/** Sign-In with Ethereum against messages built by the npm siwe package and signed by ethers. */
class SiweLoginIT extends BackendITSupport {
    private static final int AGENT = 3;

    @Autowired
    private JdbcTemplate jdbc;
    @Autowired
    private javax.sql.DataSource dataSource;

    private JsonNode nonce() {
        ApiClient.Response response = api().post("/api/v1/auth/nonce", null, null, "{}");
        assertThat(response.status()).isEqualTo(200);
        return response.json();
    }

    private ApiClient.Response login(JsonNode signed) {
        return api().post("/api/v1/auth/login", null, null, Map.of("message", signed.path("message").asString(),
                "signature", signed.path("signature").asString()));
    }

    @Test
    void a_siwe_package_message_signed_by_ethers_logs_in_and_its_token_authenticates() {
        JsonNode nonce = nonce();
        assertThat(nonce.path("domain").asString()).isEqualTo("localhost:" + port);
        assertThat(nonce.path("chainId").asLong()).isEqualTo(31337);
        ApiClient.Response login = login(siwe(AGENT, nonce, Map.of("statement", "Sign in to the agent escrow service.")));
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        assertThat(login.json().path("tokenType").asString()).isEqualTo("Bearer");
        assertThat(login.json().path("address").asString()).isEqualTo(address(AGENT));
        assertThat(login.json().path("expiresIn").asLong()).isPositive();
        ApiClient.Response me = api().get("/api/v1/accounts/me", login.json().path("accessToken").asString());
        assertThat(me.status()).as(me.toString()).isEqualTo(200);
        assertThat(me.json().path("address").asString()).isEqualTo(address(AGENT));
    }

    @Test
    void a_signature_with_recovery_byte_0_or_1_logs_in() {
        ApiClient.Response login = login(siwe(AGENT, nonce(), Map.of("recoveryByte", 0)));
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
    }

    @Test
    void a_nonce_works_once() {
        JsonNode signed = siwe(AGENT, nonce(), Map.of());
        assertThat(login(signed).status()).isEqualTo(200);
        ApiClient.Response replay = login(signed);
        assertThat(replay.status()).isEqualTo(401);
        assertThat(replay.code()).isEqualTo("SIWE_NONCE_UNKNOWN");
    }

    @Test
    void a_nonce_the_service_never_issued_is_refused() {
        JsonNode forged = ApiClient.JSON.readTree("""
                {"nonce":"abcdefgh12345678","domain":"localhost:%d","uri":"http://localhost:%d","chainId":31337}"""
                .formatted(port, port));
        assertRefused(siwe(AGENT, forged, Map.of()), "SIWE_NONCE_UNKNOWN");
    }

    @Test
    void each_wrong_field_is_refused_with_its_code() {
        assertRefused(siwe(AGENT, nonce(), Map.of("domain", "evil.example:443")), "SIWE_DOMAIN_MISMATCH");
        assertRefused(siwe(AGENT, nonce(), Map.of("uri", "https://evil.example")), "SIWE_URI_MISMATCH");
        assertRefused(siwe(AGENT, nonce(), Map.of("chainId", 1)), "SIWE_CHAIN_MISMATCH");
        assertRefused(siwe(AGENT, nonce(), Map.of("expirationTime", Instant.now().minusSeconds(5).toString())),
                "SIWE_EXPIRED");
        assertRefused(siwe(AGENT, nonce(), Map.of("issuedAt", Instant.now().minusSeconds(3600).toString())),
                "SIWE_EXPIRED");
        assertRefused(siwe(AGENT, nonce(), Map.of("notBefore", Instant.now().plusSeconds(3600).toString())),
                "SIWE_NOT_YET_VALID");
        assertRefused(siwe(AGENT, nonce(), Map.of("address", address(AGENT + 1))), "SIWE_BAD_SIGNATURE");
    }

    @Test
    void malformed_messages_and_signatures_are_refused_without_a_5xx() {
        JsonNode signed = siwe(AGENT, nonce(), Map.of());
        String message = signed.path("message").asString();
        String signature = signed.path("signature").asString();
        for (String bad : new String[] {"", "hello", message + "\nExtra: line", message.replace("Version: 1", "Version: 2"),
                message.replace(address(AGENT), address(AGENT).toLowerCase()), message.replace("\n", "\r\n"),
                message.replace("URI: ", "URI:"), message + "\u0000"}) {
            ApiClient.Response response = api().post("/api/v1/auth/login", null, null,
                    Map.of("message", bad, "signature", signature));
            assertThat(response.status()).as(bad).isIn(400, 401);
        }
        for (String badSignature : new String[] {"0x", "0x1234", "zz", signature.substring(0, 60),
                signature.substring(0, 130) + "05"}) {
            ApiClient.Response response = api().post("/api/v1/auth/login", null, null,
                    Map.of("message", message, "signature", badSignature));
            assertThat(response.status()).as(badSignature).isEqualTo(401);
            assertThat(response.code()).isEqualTo("SIWE_BAD_SIGNATURE");
        }
    }

    @Test
    void a_contract_wallet_signs_in_through_erc1271() throws Exception {
        Signer owner = CHAIN.account(AGENT + 2);
        ChannelSmartWallet wallet = ChannelSmartWallet.deploy(CHAIN.client().web3j(), owner.transactionManager(),
                owner.gasProvider(), owner.address().hex()).send();
        String walletAddress = Keys.toChecksumAddress(wallet.getContractAddress());
        ApiClient.Response login = login(siwe(AGENT + 2, nonce(), Map.of("address", walletAddress)));
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        assertThat(login.json().path("address").asString()).isEqualTo(walletAddress);
        assertRefused(siwe(AGENT + 3, nonce(), Map.of("address", walletAddress)), "SIWE_BAD_SIGNATURE");
    }

    @Test
    void api_keys_are_shown_once_authenticate_and_stop_when_revoked() {
        String token = login(AGENT + 4);
        ApiClient.Response created = api().post("/api/v1/auth/api-keys", token, key(), Map.of("name", "bot one"));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String apiKey = created.json().path("key").asString();
        String id = created.json().path("id").asString();
        assertThat(apiKey).startsWith("aek_");

        assertThat(api().get("/api/v1/accounts/me", apiKey).status()).isEqualTo(200);
        ApiClient.Response listed = api().get("/api/v1/auth/api-keys", apiKey);
        assertThat(listed.raw().body()).contains(id).doesNotContain(apiKey);

        String other = login(AGENT + 5);
        assertThat(api().delete("/api/v1/auth/api-keys/" + id, other).status()).isEqualTo(404);
        assertThat(api().delete("/api/v1/auth/api-keys/" + id, token).status()).isEqualTo(204);
        ApiClient.Response revoked = api().get("/api/v1/accounts/me", apiKey);
        assertThat(revoked.status()).isEqualTo(401);
        assertThat(revoked.code()).isEqualTo("INVALID_TOKEN");
        assertThat(api().post("/api/v1/auth/api-keys", token, key(), Map.of("name", "")).status()).isEqualTo(400);
        assertThat(api().post("/api/v1/auth/api-keys", null, key(), Map.of("name", "x")).status()).isEqualTo(401);
    }

    /** How many stored Idempotency-Key responses hold {@code secret}. */
    private int storedResponsesHolding(String secret) {
        return jdbc.queryForObject("SELECT count(*) FROM backend.idempotency_keys WHERE body IS NOT NULL"
                + " AND position(convert_to(?, 'UTF8') in body) > 0", Integer.class, secret);
    }

    @Test
    void attack_a_secret_shown_once_never_rests_in_the_idempotency_record_nor_shows_again_on_a_replay() {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        String key = key();
        ApiClient.Response created = api().post("/api/v1/auth/api-keys", agent.accessToken(), key, Map.of("name", "once"));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String secret = created.json().path("key").asString();
        assertThat(secret).startsWith("aek_");
        ApiClient.Response replay = api().post("/api/v1/auth/api-keys", agent.accessToken(), key, Map.of("name", "once"));
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(created.json().path("id").asString());
        assertThat(replay.json().path("key").isNull()).as(replay.toString()).isTrue();
        assertThat(storedResponsesHolding(secret)).as("the API key's secret stored in plain text").isZero();

        String loginKey = key();
        JsonNode signed = siwe(AGENT, nonce(), Map.of());
        Map<String, String> body = Map.of("message", signed.path("message").asString(),
                "signature", signed.path("signature").asString());
        ApiClient.Response login = api().post("/api/v1/auth/login", null, loginKey, body);
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        String accessToken = login.json().path("accessToken").asString();
        assertThat(storedResponsesHolding(accessToken)).as("an access token stored in plain text").isZero();
        ApiClient.Response loginReplay = api().post("/api/v1/auth/login", null, loginKey, body);
        assertThat(loginReplay.status()).isEqualTo(200);
        assertThat(loginReplay.json().path("accessToken").isNull()).as(loginReplay.toString()).isTrue();
    }

    @Test
    void attack_an_api_key_cannot_mint_more_api_keys_so_revoking_a_leaked_key_ends_its_access() {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        String apiKey = api().post("/api/v1/auth/api-keys", agent.accessToken(), key(), Map.of("name", "leaked"))
                .json().path("key").asString();
        ApiClient.Response minted = api().post("/api/v1/auth/api-keys", apiKey, key(), Map.of("name", "persistence"));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(403);
        assertThat(minted.code()).isEqualTo("API_KEY_NOT_ALLOWED");
        assertThat(api().get("/api/v1/auth/api-keys", agent.accessToken()).json().path("items").size()).isEqualTo(1);
    }

    @Test
    void the_api_key_list_is_paged_newest_first_since_revoked_keys_accumulate() {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ApiClient.Response created = api().post("/api/v1/auth/api-keys", agent.accessToken(), key(),
                    Map.of("name", "key " + i));
            ids.addFirst(created.json().path("id").asString());
            assertThat(api().delete("/api/v1/auth/api-keys/" + ids.getFirst(), agent.accessToken()).status())
                    .isEqualTo(204);
        }
        ApiClient.Response first = api().get("/api/v1/auth/api-keys?limit=2", agent.accessToken());
        assertThat(first.json().path("items").valueStream().map(k -> k.path("id").asString()).toList())
                .isEqualTo(ids.subList(0, 2));
        String cursor = first.json().path("nextCursor").asString();
        ApiClient.Response second = api().get("/api/v1/auth/api-keys?limit=2&cursor=" + cursor, agent.accessToken());
        assertThat(second.json().path("items").valueStream().map(k -> k.path("id").asString()).toList())
                .isEqualTo(ids.subList(2, 3));
        assertThat(second.json().path("nextCursor").isMissingNode()).isTrue();
        for (String query : new String[] {"limit=0", "limit=101", "limit=x"}) {
            assertThat(api().get("/api/v1/auth/api-keys?" + query, agent.accessToken()).code()).as(query)
                    .isEqualTo("VALIDATION_FAILED");
        }
        for (String bad : new String[] {"x", "azE6MQ", "a".repeat(200)}) {
            assertThat(api().get("/api/v1/auth/api-keys?cursor=" + bad, agent.accessToken()).code()).as(bad)
                    .isEqualTo("INVALID_CURSOR");
        }
    }

    @Test
    void a_tampered_or_foreign_jwt_is_401_problem() {
        String token = login(AGENT);
        ApiClient.Response tampered = api().get("/api/v1/accounts/me", token.substring(0, token.length() - 3) + "AAA");
        assertThat(tampered.status()).isEqualTo(401);
        assertThat(tampered.header("Content-Type")).startsWith("application/problem+json");
    }

    @Test
    void attack_a_contract_wallet_answering_odd_return_data_is_refused_not_a_500() {
        // Runtime codes: return one byte; return the ERC-1271 magic value unpadded (4 bytes, not an ABI word);
        // revert with no data.
        for (String code : new String[] {"0x601660005360016000f3", "0x631626ba7e60e01b60005260046000f3", "0x60006000fd"}) {
            String wallet = addressOf(freshPrivateKey());
            CHAIN.client().rawRequest("hardhat_setCode", java.util.List.of(wallet, code));
            assertRefused(siwe(AGENT, nonce(), Map.of("address", wallet)), "SIWE_BAD_SIGNATURE");
        }
    }

    @Test
    void attack_a_contract_wallet_check_gets_a_bounded_gas_allowance() {
        // Runtime code: answer the ERC-1271 magic word only if more than N gas is left at the start
        // (GAS PUSH4 N LT PUSH1 14 JUMPI; else revert; JUMPDEST: MSTORE the word, RETURN 32 bytes). A wallet
        // whose check needs 1,000,000 signs in; one that needs 3,000,000 (or loops) is refused: the call's
        // gas is capped, not the node's whole call gas an unauthenticated login could burn.
        for (long needed : new long[] {1_000_000, 3_000_000}) {
            String code = "0x5a63" + String.format("%08x", needed) + "10600e57600080fd5b7f1626ba7e" + "00".repeat(28)
                    + "60005260206000f3";
            String wallet = addressOf(freshPrivateKey());
            CHAIN.client().rawRequest("hardhat_setCode", java.util.List.of(wallet, code));
            JsonNode signed = siwe(AGENT, nonce(), Map.of("address", wallet));
            if (needed < 2_000_000) {
                ApiClient.Response answer = login(signed);
                assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
            } else {
                assertRefused(signed, "SIWE_BAD_SIGNATURE");
            }
        }
    }

    @Test
    void attack_parallel_creations_never_pass_the_limit_of_active_api_keys() throws Exception {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        for (int i = 1; i < ApiKeys.MAX_ACTIVE_PER_OWNER; i++) {
            assertThat(api().post("/api/v1/auth/api-keys", agent.accessToken(), key(), Map.of("name", "key " + i)).status())
                    .isEqualTo(201);
        }
        int parallel = 3;
        java.util.List<java.util.concurrent.Future<Integer>> statuses = new java.util.ArrayList<>();
        try (java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(parallel);
             java.sql.Connection holder = dataSource.getConnection()) {
            // Inserts into api_keys wait behind this lock while reads pass: each creation counts, then waits to
            // insert, so all of them count before any inserts (the window a race needs, held open).
            holder.setAutoCommit(false);
            holder.createStatement().execute("LOCK TABLE backend.api_keys IN SHARE MODE");
            for (int i = 0; i < parallel; i++) {
                String name = "race " + i;
                statuses.add(pool.submit(() -> api().post("/api/v1/auth/api-keys", agent.accessToken(), key(),
                        Map.of("name", name)).status()));
            }
            dev.agentescrow.backend.testing.Conditions.awaitUntil("the creations wait on a lock", () -> jdbc.queryForObject(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND (relation = 'backend.api_keys'::regclass"
                            + " OR locktype = 'advisory')", Integer.class) >= parallel);
            holder.commit();
            int created = 0;
            for (java.util.concurrent.Future<Integer> status : statuses) {
                assertThat(status.get()).isIn(201, 409);
                created += status.get() == 201 ? 1 : 0;
            }
            Integer active = jdbc.queryForObject("SELECT count(*) FROM backend.api_keys WHERE owner = ? AND revoked_at IS NULL",
                    Integer.class, agent.address().toLowerCase());
            assertThat(active).as("active API keys after %d parallel creations", parallel)
                    .isEqualTo(ApiKeys.MAX_ACTIVE_PER_OWNER);
            assertThat(created).isEqualTo(1);
        }
    }

    private void assertRefused(JsonNode signed, String code) {
        ApiClient.Response response = login(signed);
        assertThat(response.status()).as(response.toString()).isEqualTo(401);
        assertThat(response.header("Content-Type")).startsWith("application/problem+json");
        assertThat(response.code()).isEqualTo(code);
    }
}
