package dev.agentescrow.backend.cluster;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendProcess;
import dev.agentescrow.backend.testing.NodeScripts;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployer;
import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.local.DevAccounts;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The application restarted in the middle of an end-to-end flow, on the same data folder (its
 * embedded PostgreSQL), keeps every balance: two agents deposit and pay each other, some payments
 * settle, the service stops with SIGTERM while later payments wait for their batch, and starts
 * again; the balances are what they were, the waiting payments settle, more payments work, and the
 * vault's settled balances equal the ledger's. The stop is clean: the embedded PostgreSQL stops
 * after Spring's beans, and nothing on the way logs an error. Its own contract set (operator dev
 * #15) and agents (dev #8, #9).
 */
class RestartIT {
    private static final int OPERATOR = 15;
    private static final int ALICE = 8;
    private static final int BOB = 9;
    private static final BigInteger DEPOSIT = BigInteger.valueOf(5_000_000);

    private static final TestChain CHAIN = TestChain.get();

    @Test
    void a_restart_in_the_middle_of_the_flow_keeps_every_balance() throws Exception {
        long started = System.nanoTime();
        Path dir = Files.createTempDirectory("restart-it-");
        Signer admin = CHAIN.account(TestChain.ADMIN);
        Deployment deployment = Deployer.deployWithTestToken(CHAIN.client(), admin, new Deployer.Plan(admin.address(),
                CHAIN.account(OPERATOR).address(), CHAIN.account(TestChain.FEE_RECIPIENT).address(),
                BasisPoints.of(100), Duration.ofDays(7)));
        Map<String, String> env = new HashMap<>(Map.of(
                "CHAIN_RPC_URL", CHAIN.rpcUrl(),
                "DEPLOYMENT_FILE", BackendProcess.writeDeploymentFile(deployment, dir.resolve("localhost.json")).toString(),
                "DATA_DIR", dir.resolve("data").toString(),
                "OPERATOR_PRIVATE_KEY", TestChain.privateKey(OPERATOR),
                "PORT", Integer.toString(BackendProcess.freePort())));
        String token = deployment.token().checksummed();
        for (int agent : new int[] {ALICE, BOB}) {
            deployment.token(CHAIN.client()).mint(admin, address(agent), Amount.of(DEPOSIT));
        }

        Map<Integer, String> tokens = new HashMap<>();
        List<String> settledBefore = new ArrayList<>();
        List<String> waiting = new ArrayList<>();
        Map<Integer, JsonNode> before = new HashMap<>();
        try (BackendProcess first = BackendProcess.start("restart-first", env)) {
            first.awaitReady();
            System.out.printf("first start ready after %d ms%n", elapsedMs(started));
            for (int agent : new int[] {ALICE, BOB}) {
                tokens.put(agent, login(first.api(), agent));
                deployment.vault(CHAIN.client()).depositWithPermit(CHAIN.account(agent), deployment.token(),
                        Amount.of(DEPOSIT), Instant.now().plus(Duration.ofHours(1)));
            }
            for (int agent : new int[] {ALICE, BOB}) {
                awaitUntil("deposit of dev #" + agent + " credited",
                        () -> balance(first.api(), tokens.get(agent), token).path("available").asString()
                                .equals(DEPOSIT.toString()));
            }
            settledBefore.add(pay(first.api(), tokens.get(ALICE), BOB, token, "1250000"));
            settledBefore.add(pay(first.api(), tokens.get(BOB), ALICE, token, "250000"));
            for (String id : settledBefore) {
                awaitUntil("transfer " + id + " settled", () -> status(first.api(), tokens.get(ALICE), tokens.get(BOB), id)
                        .equals("SETTLED"));
            }
            waiting.add(pay(first.api(), tokens.get(ALICE), BOB, token, "100000"));
            waiting.add(pay(first.api(), tokens.get(BOB), ALICE, token, "300000"));
            for (int agent : new int[] {ALICE, BOB}) {
                before.put(agent, balance(first.api(), tokens.get(agent), token));
            }
            long stopping = System.nanoTime();
            int exit = first.stop();
            System.out.printf("stopped with SIGTERM in %d ms, exit code %d%n", elapsedMs(stopping), exit);
            assertThat(exit).as(first.output()).isIn(0, 143);
            assertCleanShutdown(first.lines());
        }

        try (BackendProcess second = BackendProcess.start("restart-second", env)) {
            long restarting = System.nanoTime();
            second.awaitReady();
            System.out.printf("restarted on the same data folder in %d ms%n", elapsedMs(restarting));
            for (int agent : new int[] {ALICE, BOB}) {
                JsonNode after = balance(second.api(), tokens.get(agent), token);
                assertThat(after.path("available").asString()).as("dev #" + agent)
                        .isEqualTo(before.get(agent).path("available").asString());
                assertThat(after.path("held").asString()).isEqualTo(before.get(agent).path("held").asString());
            }
            assertThat(new BigInteger(balance(second.api(), tokens.get(ALICE), token).path("available").asString())
                    .add(new BigInteger(balance(second.api(), tokens.get(BOB), token).path("available").asString())))
                    .isEqualTo(DEPOSIT.multiply(BigInteger.TWO));
            for (String id : settledBefore) {
                assertThat(status(second.api(), tokens.get(ALICE), tokens.get(BOB), id)).isEqualTo("SETTLED");
            }
            waiting.add(pay(second.api(), tokens.get(ALICE), BOB, token, "50000"));
            for (String id : waiting) {
                awaitUntil("transfer " + id + " settled after the restart",
                        () -> status(second.api(), tokens.get(ALICE), tokens.get(BOB), id).equals("SETTLED"));
            }
            BigInteger alice = DEPOSIT.subtract(BigInteger.valueOf(1_250_000 - 250_000 + 100_000 - 300_000 + 50_000));
            BigInteger bob = DEPOSIT.multiply(BigInteger.TWO).subtract(alice);
            assertThat(balance(second.api(), tokens.get(ALICE), token).path("available").asString())
                    .isEqualTo(alice.toString());
            assertThat(balance(second.api(), tokens.get(BOB), token).path("available").asString())
                    .isEqualTo(bob.toString());
            assertThat(deployment.vault(CHAIN.client()).settledBalance(deployment.token(), address(ALICE)).baseUnits())
                    .isEqualTo(alice);
            assertThat(deployment.vault(CHAIN.client()).settledBalance(deployment.token(), address(BOB)).baseUnits())
                    .isEqualTo(bob);
            int exit = second.stop();
            assertThat(exit).as(second.output()).isIn(0, 143);
            assertCleanShutdown(second.lines());
        }
        System.out.printf("RestartIT took %d ms%n", elapsedMs(started));
    }

    /** Spring's beans close, then the embedded PostgreSQL stops; no error or stack trace on the way. */
    private static void assertCleanShutdown(List<String> lines) {
        int stopped = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("embedded PostgreSQL stopped")) {
                stopped = i;
            }
        }
        assertThat(stopped).as("the embedded PostgreSQL stopped; output:%n%s", String.join("\n", lines))
                .isGreaterThanOrEqualTo(0);
        // Not an error: the embedded PostgreSQL's start-up probe connecting before the server accepts
        // connections (seen when the machine is loaded) makes PostgreSQL log this FATAL for the probe.
        List<String> errors = lines.stream().filter(line -> line.contains(" ERROR ") || line.startsWith("Exception")
                || line.startsWith("\tat ") || line.contains("FATAL"))
                .filter(line -> !line.contains("FATAL:  the database system is starting up")).toList();
        assertThat(errors).as("errors in the output:%n%s", String.join("\n", lines)).isEmpty();
    }

    private static String pay(ApiClient api, String accessToken, int to, String token, String amount) {
        ApiClient.Response paid = api.post("/api/v1/transfers", accessToken, UUID.randomUUID().toString(),
                Map.of("to", address(to).checksummed(), "token", token, "amount", amount, "reference", "restart"));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        return paid.json().path("id").asString();
    }

    /** The transfer's status, read by whichever of the two agents is a party to it. */
    private static String status(ApiClient api, String alice, String bob, String id) {
        ApiClient.Response read = api.get("/api/v1/transfers/" + id, alice);
        if (read.status() == 404) {
            read = api.get("/api/v1/transfers/" + id, bob);
        }
        return read.json().path("status").asString();
    }

    private static JsonNode balance(ApiClient api, String accessToken, String token) {
        for (JsonNode balance : api.get("/api/v1/accounts/me", accessToken).json().path("balances")) {
            if (balance.path("token").asString().equals(token)) {
                return balance;
            }
        }
        return ApiClient.JSON.createObjectNode().put("available", "0").put("held", "0");
    }

    private static String login(ApiClient api, int agent) {
        JsonNode nonce = api.post("/api/v1/auth/nonce", null, null, "{}").json();
        JsonNode signed = ApiClient.JSON.readTree(NodeScripts.run("siwe-sign.js", ApiClient.JSON.writeValueAsString(
                Map.of("privateKey", TestChain.privateKey(agent), "domain", nonce.path("domain").asString(),
                        "uri", nonce.path("uri").asString(), "chainId", nonce.path("chainId").asLong(),
                        "nonce", nonce.path("nonce").asString()))));
        ApiClient.Response login = api.post("/api/v1/auth/login", null, null, Map.of("message",
                signed.path("message").asString(), "signature", signed.path("signature").asString()));
        assertThat(login.status()).as(login.toString()).isEqualTo(200);
        return login.json().path("accessToken").asString();
    }

    private static Address address(int index) {
        return Address.of(DevAccounts.account(index).getAddress());
    }

    private static long elapsedMs(long since) {
        return Duration.ofNanos(System.nanoTime() - since).toMillis();
    }
}
