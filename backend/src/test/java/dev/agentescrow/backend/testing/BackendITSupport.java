package dev.agentescrow.backend.testing;

import dev.agentescrow.backend.BackendApplication;
import dev.agentescrow.chain.local.DevAccounts;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Base of the backend's integration tests: every subclass shares one Spring context (same
 * configuration), one Hardhat node ({@link TestChain}) and one embedded PostgreSQL, and talks to the
 * service over real HTTP. Each test uses dev accounts of its own so that tests do not disturb each
 * other's balances.
 */
@SpringBootTest(classes = BackendApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
public abstract class BackendITSupport {
    /** The configured admin. */
    public static final int ADMIN_ACCOUNT = 19;
    /** What one account may send per token per day in the tests (base units). */
    public static final String DAILY_LIMIT = "2000000000000";

    protected static final TestChain CHAIN = TestChain.get();
    /**
     * The service's escrow arbiter key: a fresh key given ETH (the dev accounts all belong to tests,
     * and the service sends its resolutions from its own nonce sequence).
     */
    public static final org.web3j.crypto.Credentials ESCROW_ARBITER = TestChain.fundedFreshKey();
    /** The service's chain escrow keeper key: a fresh key given ETH (its own nonce lane). */
    public static final org.web3j.crypto.Credentials ESCROW_KEEPER = TestChain.fundedFreshKey();
    /** The marketplace's arbiter in the tests: a fresh key (no dev account) that the arbiter's tests sign in with. */
    public static final org.web3j.crypto.Credentials MARKET_ARBITER_KEY = freshKey();
    public static final String MARKET_ARBITER = org.web3j.crypto.Keys.toChecksumAddress(MARKET_ARBITER_KEY.getAddress());

    @LocalServerPort
    protected int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("agentescrow.chain-rpc-url", CHAIN::rpcUrl);
        registry.add("agentescrow.deployment-file", () -> CHAIN.deploymentFile().toString());
        registry.add("agentescrow.data-dir", () -> CHAIN.dataDir().toString());
        registry.add("agentescrow.admins", () -> CHAIN.account(ADMIN_ACCOUNT).address().hex());
        registry.add("agentescrow.batch-interval-seconds", () -> "1");
        registry.add("agentescrow.confirmations", () -> "0");
        registry.add("agentescrow.limits.requests-per-second-per-principal", () -> "50");
        registry.add("agentescrow.limits.requests-per-second-per-ip", () -> "100000");
        registry.add("agentescrow.limits.max-daily-amount", () -> DAILY_LIMIT);
        registry.add("agentescrow.events.initial-backoff", () -> "PT0.2S");
        registry.add("agentescrow.events.delivery-poll-interval", () -> "PT0.1S");
        registry.add("agentescrow.events.heartbeat", () -> "PT1S");
        registry.add("agentescrow.escrow.expiry-lag", () -> "PT6S");
        registry.add("agentescrow.escrow.chain.arbiter-private-key", () -> TestChain.privateKey(ESCROW_ARBITER));
        registry.add("agentescrow.escrow.chain.keeper-private-key", () -> TestChain.privateKey(ESCROW_KEEPER));
        registry.add("agentescrow.escrow.chain.keeper-interval", () -> "PT1S");
        registry.add("agentescrow.chainlog.poll-interval", () -> "PT0.2S");
        registry.add("agentescrow.market.arbiter", () -> MARKET_ARBITER);
        // the event retention runs when a test calls it (EventRetentionIT), not on its schedule
        registry.add("agentescrow.events.retention-interval", () -> "PT24H");
        registry.add("agentescrow.channels.proof-receipt-retention-interval", () -> "PT24H");
    }

    private static org.web3j.crypto.Credentials freshKey() {
        try {
            return org.web3j.crypto.Credentials.create(org.web3j.crypto.Keys.createEcKeyPair());
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    protected ApiClient api() {
        return new ApiClient(port);
    }

    /** Signs in dev account {@code index} with a SIWE message built by the npm siwe package; returns the access token. */
    protected String login(int index) {
        ApiClient api = api();
        JsonNode nonce = api.post("/api/v1/auth/nonce", null, null, "{}").json();
        JsonNode signed = siwe(index, nonce, Map.of());
        ApiClient.Response login = api.post("/api/v1/auth/login", null, null,
                Map.of("message", signed.path("message").asString(), "signature", signed.path("signature").asString()));
        if (login.status() != 200) {
            throw new IllegalStateException("login failed: " + login);
        }
        return login.json().path("accessToken").asString();
    }

    /** A SIWE message for the nonce answer {@code nonce}, built and signed by siwe + ethers, with overrides. */
    protected static JsonNode siwe(int index, JsonNode nonce, Map<String, Object> overrides) {
        Map<String, Object> input = new java.util.HashMap<>(Map.of(
                "privateKey", TestChain.privateKey(index),
                "domain", nonce.path("domain").asString(),
                "uri", nonce.path("uri").asString(),
                "chainId", nonce.path("chainId").asLong(),
                "nonce", nonce.path("nonce").asString()));
        input.putAll(overrides);
        return ApiClient.JSON.readTree(NodeScripts.run("siwe-sign.js", ApiClient.JSON.writeValueAsString(input)));
    }

    protected static String address(int index) {
        return org.web3j.crypto.Keys.toChecksumAddress(DevAccounts.account(index).getAddress());
    }

    /** A new private key (hex), of an address no other test uses. */
    protected static String freshPrivateKey() {
        return "0x" + String.format("%064x", freshKey().getEcKeyPair().getPrivateKey());
    }

    protected static String addressOf(String privateKey) {
        return org.web3j.crypto.Keys.toChecksumAddress(org.web3j.crypto.Credentials.create(privateKey).getAddress());
    }

    /** Signs in the holder of {@code privateKey} with a SIWE message built by the npm siwe package; returns the access token. */
    protected String loginWith(String privateKey) {
        ApiClient api = api();
        JsonNode nonce = api.post("/api/v1/auth/nonce", null, null, "{}").json();
        JsonNode signed = siwe(0, nonce, Map.of("privateKey", privateKey));
        ApiClient.Response login = api.post("/api/v1/auth/login", null, null,
                Map.of("message", signed.path("message").asString(), "signature", signed.path("signature").asString()));
        if (login.status() != 200) {
            throw new IllegalStateException("login failed: " + login);
        }
        return login.json().path("accessToken").asString();
    }

    protected static String key() {
        return UUID.randomUUID().toString();
    }
}
