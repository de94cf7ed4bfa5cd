package dev.agentescrow.backend.cluster;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendProcess;
import dev.agentescrow.backend.testing.NodeScripts;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.HistoryPage;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.batcher.read.TransferView;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployer;
import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.local.DevAccounts;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Two instances of the service (child JVMs) on one PostgreSQL and one Hardhat node, with a contract
 * set of their own (operator dev #18, so that nothing else signs as it). Agents send writes to both
 * instances; the leader is killed with SIGKILL under that load; the standby takes over. A client
 * retries a write that failed (503, a refused connection) with the same Idempotency-Key, and, when
 * the dead leader's claim of that key stands (409 in flight), with a new key and the same transfer
 * id, until it is acknowledged. Then nothing acknowledged is lost or doubled: every 201 transfer id
 * is in the ledger exactly once with its amount, the agents' transfers in the ledger are exactly the
 * acknowledged ones, and every agent's balance is its deposit plus what it received minus what it
 * sent (the balances sum to the deposits).
 */
class ClusterFailoverIT {
    private static final int OPERATOR = 18;
    private static final int[] AGENTS = {4, 5, 6, 7};
    private static final BigInteger DEPOSIT = BigInteger.valueOf(10_000_000);
    private static final int ACKS_BEFORE_KILL = 40;
    private static final int ACKS_AFTER_TAKEOVER = 40;
    /** Generous for a loaded 2-core machine (the batcher's own takeover takes about one to six seconds). */
    private static final Duration LOAD_BOUND = Duration.ofSeconds(90);

    private static final TestChain CHAIN = TestChain.get();

    record Ack(UUID id, int from, int to, BigInteger amount, boolean forwarded) {
    }

    @Test
    void two_instances_on_one_database_lose_and_double_nothing_when_the_leader_is_killed_under_load() throws Exception {
        Path dir = Files.createTempDirectory("cluster-it-");
        Signer admin = CHAIN.account(TestChain.ADMIN);
        Deployment deployment = Deployer.deployWithTestToken(CHAIN.client(), admin, new Deployer.Plan(admin.address(),
                CHAIN.account(OPERATOR).address(), CHAIN.account(TestChain.FEE_RECIPIENT).address(),
                BasisPoints.of(100), Duration.ofDays(7)));
        Path deploymentFile = BackendProcess.writeDeploymentFile(deployment, dir.resolve("localhost.json"));
        long started = System.nanoTime();
        try (DatabaseServer database = DatabaseServer.embedded(dir.resolve("postgres"));
             HikariDataSource pool = pool(database)) {
            int portA = BackendProcess.freePort();
            int portB = BackendProcess.freePort();
            Map<String, String> common = Map.of(
                    "CHAIN_RPC_URL", CHAIN.rpcUrl(),
                    "DEPLOYMENT_FILE", deploymentFile.toString(),
                    "DATABASE_URL", database.jdbcUrl(),
                    "DATABASE_USER", database.user(),
                    "DATABASE_PASSWORD", database.password(),
                    "DATA_DIR", dir.resolve("unused").toString(),
                    "OPERATOR_PRIVATE_KEY", TestChain.privateKey(OPERATOR),
                    "DATABASE_POOL_SIZE", "12",
                    "FORWARD_TIMEOUT", "PT10S");
            try (BackendProcess a = BackendProcess.start("instance-a", with(common, portA));
                 BackendProcess b = BackendProcess.start("instance-b", with(common, portB))) {
                a.awaitReady();
                b.awaitReady();
                System.out.printf("two instances ready after %d ms%n", elapsedMs(started));
                awaitUntil("one leader and one standby",
                        () -> Set.of(a.role(), b.role()).equals(Set.of("LEADER", "STANDBY")));
                BackendProcess leader = a.role().equals("LEADER") ? a : b;
                BackendProcess standby = leader == a ? b : a;
                long firstEpoch = leader.leadership().path("epoch").asLong();
                assertThat(standby.leadership().path("leader").path("id").asString()).isEqualTo(leader.name());
                assertThat(standby.leadership().path("leader").path("address").asString()).isEqualTo(leader.url());

                LedgerReads reads = new LedgerReads(pool);
                Address token = deployment.token();
                fund(deployment, reads);
                Map<Integer, String> tokens = new HashMap<>();
                for (int agent : AGENTS) {
                    tokens.put(agent, login(leader, agent));
                }

                // A request marked as forwarded never travels further: the standby refuses it.
                HttpRequest looped = standby.api().request("/api/v1/transfers", tokens.get(AGENTS[0]))
                        .header("Content-Type", "application/json").header("Idempotency-Key", UUID.randomUUID().toString())
                        .header(LeaderForwardingFilter.FORWARDED_BY, "instance-x")
                        .POST(HttpRequest.BodyPublishers.ofString(order(AGENTS[1], token, BigInteger.ONE, UUID.randomUUID())))
                        .build();
                ApiClient.Response refused = standby.api().send(looped);
                assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
                assertThat(refused.code()).isEqualTo(LeaderForwardingFilter.CODE);

                List<Ack> acks = new CopyOnWriteArrayList<>();
                // The standby serves token reads from the database (no writer), and a write it forwarded is in
                // its next read without X-Min-Sequence (the forwarded answer raises its read floor).
                ApiClient.Response listed = standby.api().get("/api/v1/tokens", tokens.get(AGENTS[0]));
                assertThat(listed.status()).as(listed.toString()).isEqualTo(200);
                assertThat(listed.json().path("tokens").get(0).path("address").asString()).isEqualTo(token.checksummed());
                BigInteger expected = available(standby, tokens.get(AGENTS[0]), token);
                for (int round = 0; round < 20; round++) {
                    UUID id = UUID.randomUUID();
                    HttpRequest forwarded = standby.api().request("/api/v1/transfers", tokens.get(AGENTS[0]))
                            .header("Content-Type", "application/json")
                            .header("Idempotency-Key", UUID.randomUUID().toString())
                            .POST(HttpRequest.BodyPublishers.ofString(order(AGENTS[1], token, BigInteger.ONE, id)))
                            .build();
                    ApiClient.Response paid = standby.api().send(forwarded);
                    assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
                    assertThat(paid.header(LeaderForwardingFilter.SERVED_BY_LEADER)).isEqualTo(leader.name());
                    acks.add(new Ack(id, AGENTS[0], AGENTS[1], BigInteger.ONE, true));
                    expected = expected.subtract(BigInteger.ONE);
                    assertThat(available(standby, tokens.get(AGENTS[0]), token))
                            .as("the standby's read right after forwarded write %d", round).isEqualTo(expected);
                }

                Map<String, AtomicInteger> retries = new ConcurrentHashMap<>();
                AtomicBoolean stop = new AtomicBoolean();
                List<Throwable> failures = new CopyOnWriteArrayList<>();
                List<Thread> clients = new ArrayList<>();
                for (int i = 0; i < AGENTS.length; i++) {
                    int from = AGENTS[i];
                    int to = AGENTS[(i + 1) % AGENTS.length];
                    List<ApiClient> instances = i % 2 == 0 ? List.of(a.api(), b.api()) : List.of(b.api(), a.api());
                    clients.add(Thread.ofPlatform().name("agent-" + from).start(() -> {
                        try {
                            int round = 0;
                            while (!stop.get()) {
                                BigInteger amount = BigInteger.valueOf(1 + (round % 9));
                                acks.add(pay(instances, round++, tokens.get(from), from, to, token, amount, retries));
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
                awaitUntil(ACKS_BEFORE_KILL + " acknowledged transfers", () -> acks.size() >= ACKS_BEFORE_KILL
                        || !failures.isEmpty());
                assertThat(failures).isEmpty();
                long killedAt = System.nanoTime();
                int acksAtKill = acks.size();
                leader.kill();
                System.out.printf("killed %s (SIGKILL) after %d acknowledged transfers%n", leader.name(), acksAtKill);
                awaitUntil("the standby leads", () -> standby.role().equals("LEADER"));
                long takeoverMs = elapsedMs(killedAt);
                awaitUntil(ACKS_AFTER_TAKEOVER + " more acknowledged transfers after the takeover",
                        () -> acks.size() >= acksAtKill + ACKS_AFTER_TAKEOVER || !failures.isEmpty()
                                || elapsedMs(killedAt) > LOAD_BOUND.toMillis());
                stop.set(true);
                for (Thread client : clients) {
                    client.join(LOAD_BOUND.toMillis());
                    assertThat(client.isAlive()).as(client.getName() + " finished").isFalse();
                }
                assertThat(failures).isEmpty();
                assertThat(acks.size()).isGreaterThanOrEqualTo(acksAtKill + ACKS_AFTER_TAKEOVER);
                System.out.printf("takeover seen by health after %d ms; %d acknowledged transfers (%d forwarded by the"
                        + " standby), retries %s%n", takeoverMs, acks.size(),
                        acks.stream().filter(Ack::forwarded).count(), retries);

                JsonNode health = standby.leadership();
                assertThat(health.path("role").asString()).isEqualTo("LEADER");
                assertThat(health.path("epoch").asLong()).isGreaterThan(firstEpoch);
                assertThat(health.path("leader").path("id").asString()).isEqualTo(standby.name());
                assertThat(acks.stream().anyMatch(Ack::forwarded)).as("some writes were forwarded to the leader").isTrue();

                assertNothingLostOrDoubled(acks, reads, token);
                for (Ack ack : acks.subList(0, Math.min(acks.size(), 20))) {
                    ApiClient.Response read = standby.api().get("/api/v1/transfers/" + ack.id(), tokens.get(ack.from()));
                    assertThat(read.status()).as(read.toString()).isEqualTo(200);
                    assertThat(read.json().path("amount").asString()).isEqualTo(ack.amount().toString());
                }
            }
        }
        System.out.printf("ClusterFailoverIT took %d ms%n", elapsedMs(started));
    }

    /**
     * One transfer, as a careful client sends it: its own transfer id, an Idempotency-Key, and
     * retries until it is acknowledged (bounded in time).
     */
    private static Ack pay(List<ApiClient> instances, int round, String accessToken, int from, int to, Address token,
                           BigInteger amount, Map<String, AtomicInteger> retries) {
        UUID id = UUID.randomUUID();
        String body = order(to, token, amount, id);
        String key = UUID.randomUUID().toString();
        long deadline = System.nanoTime() + LOAD_BOUND.toNanos();
        for (int attempt = 0; ; attempt++) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("transfer " + id + " not acknowledged within " + LOAD_BOUND);
            }
            ApiClient instance = instances.get((round + attempt) % instances.size());
            ApiClient.Response response;
            try {
                response = instance.post("/api/v1/transfers", accessToken, key, body);
            } catch (UncheckedIOException e) {
                retries.computeIfAbsent("connection refused", k -> new AtomicInteger()).incrementAndGet();
                backOff();
                continue;
            }
            if (response.status() == 201) {
                assertThat(response.json().path("id").asString()).isEqualTo(id.toString());
                return new Ack(id, from, to, amount, response.header(LeaderForwardingFilter.SERVED_BY_LEADER) != null);
            }
            String code = response.code();
            retries.computeIfAbsent(response.status() + " " + code, k -> new AtomicInteger()).incrementAndGet();
            if (response.status() == 409 && code.equals("IDEMPOTENCY_REQUEST_IN_FLIGHT")) {
                // The dead leader's claim of the key stands until it expires: the same transfer id under a
                // new key is just as safe (the ledger answers EXISTS for a committed id).
                key = UUID.randomUUID().toString();
            } else if (response.status() != 503) {
                throw new AssertionError("transfer " + id + " refused: " + response);
            }
            backOff();
        }
    }

    /** A client's pause between retries (what Retry-After asks for, shortened for the test). */
    private static void backOff() {
        LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
    }

    private static void assertNothingLostOrDoubled(List<Ack> acks, LedgerReads reads, Address token) {
        Set<UUID> ackedIds = new HashSet<>();
        for (Ack ack : acks) {
            assertThat(ackedIds.add(ack.id())).as("acknowledged once: " + ack.id()).isTrue();
            Optional<TransferView> found = reads.transfer(TransferId.of(ack.id())).get();
            assertThat(found).as("acknowledged transfer " + ack.id() + " is in the ledger").isPresent();
            TransferRecord record = found.get().transfer();
            assertThat(record.amount()).isEqualTo(ack.amount());
            assertThat(record.debit()).isEqualTo(AccountKey.user(address(ack.from()), token));
            assertThat(record.credit()).isEqualTo(AccountKey.user(address(ack.to()), token));
        }
        long position = reads.lastCommittedSeq();
        Set<UUID> sentInLedger = new HashSet<>();
        int sentCount = 0;
        BigInteger sum = BigInteger.ZERO;
        for (int agent : AGENTS) {
            AccountKey account = AccountKey.user(address(agent), token);
            long cursor = Long.MAX_VALUE;
            while (true) {
                HistoryPage page = reads.history(account, cursor, 500, position, Duration.ofSeconds(10)).get()
                        .orElseThrow();
                for (TransferRecord record : page.entries()) {
                    if (record.debit().equals(account)) {
                        sentCount++;
                        sentInLedger.add(record.id().toUuid());
                    }
                }
                if (page.nextCursor().isEmpty()) {
                    break;
                }
                cursor = page.nextCursor().getAsLong();
            }
            BigInteger expected = DEPOSIT;
            for (Ack ack : acks) {
                if (ack.from() == agent) {
                    expected = expected.subtract(ack.amount());
                }
                if (ack.to() == agent) {
                    expected = expected.add(ack.amount());
                }
            }
            AccountView view = reads.account(account, position, Duration.ofSeconds(30)).get().orElseThrow();
            assertThat(view.posted()).as("balance of dev #" + agent).isEqualTo(expected);
            sum = sum.add(view.posted());
        }
        assertThat(sentCount).as("transfers the agents sent, in the ledger").isEqualTo(acks.size());
        assertThat(sentInLedger).isEqualTo(ackedIds);
        assertThat(sum).isEqualTo(DEPOSIT.multiply(BigInteger.valueOf(AGENTS.length)));
    }

    /** Mints and deposits {@link #DEPOSIT} for every agent (signed in the test) and waits until the leader credits them. */
    private static void fund(Deployment deployment, LedgerReads reads) {
        Signer admin = CHAIN.account(TestChain.ADMIN);
        for (int agent : AGENTS) {
            deployment.token(CHAIN.client()).mint(admin, address(agent), Amount.of(DEPOSIT));
            deployment.vault(CHAIN.client()).depositWithPermit(CHAIN.account(agent), deployment.token(),
                    Amount.of(DEPOSIT), Instant.now().plus(Duration.ofHours(1)));
        }
        for (int agent : AGENTS) {
            AccountKey account = AccountKey.user(address(agent), deployment.token());
            awaitUntil("deposit of dev #" + agent + " credited", () -> reads.account(account).get()
                    .map(AccountView::posted).orElse(BigInteger.ZERO).equals(DEPOSIT));
        }
    }

    private static String login(BackendProcess instance, int agent) {
        ApiClient api = instance.api();
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

    private static BigInteger available(BackendProcess instance, String accessToken, Address token) {
        ApiClient.Response me = instance.api().get("/api/v1/accounts/me", accessToken);
        assertThat(me.status()).as(me.toString()).isEqualTo(200);
        for (JsonNode balance : me.json().path("balances")) {
            if (balance.path("token").asString().equals(token.checksummed())) {
                return new BigInteger(balance.path("available").asString());
            }
        }
        return BigInteger.ZERO;
    }

    private static String order(int to, Address token, BigInteger amount, UUID id) {
        return ApiClient.JSON.writeValueAsString(Map.of("to", address(to).checksummed(), "token", token.checksummed(),
                "amount", amount.toString(), "reference", "cluster", "id", id.toString()));
    }

    private static Address address(int index) {
        return Address.of(DevAccounts.account(index).getAddress());
    }

    private static Map<String, String> with(Map<String, String> common, int port) {
        Map<String, String> env = new HashMap<>(common);
        env.put("PORT", Integer.toString(port));
        env.put("ADVERTISED_URL", "http://127.0.0.1:" + port);
        return env;
    }

    private static HikariDataSource pool(DatabaseServer database) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(database.jdbcUrl());
        config.setUsername(database.user());
        config.setPassword(database.password());
        config.setMaximumPoolSize(4);
        return new HikariDataSource(config);
    }

    private static long elapsedMs(long since) {
        return Duration.ofNanos(System.nanoTime() - since).toMillis();
    }
}
