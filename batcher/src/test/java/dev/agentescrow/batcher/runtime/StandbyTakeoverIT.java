package dev.agentescrow.batcher.runtime;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.leadership.LeadershipChange;
import dev.agentescrow.batcher.leadership.LeadershipConfig;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.testing.BlackholeProxy;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.LedgerTables;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A standby batcher takes over from a leader that dies (SIGKILL of its JVM under load) and from one
 * whose database traffic goes silent (a half-open connection through {@link BlackholeProxy}): the
 * standby leads within a bound, every transfer the old leader acknowledged is in the ledger (asked
 * again, it answers EXISTS), the deposed leader's writes are refused by the epoch, every batch id
 * settles once on chain, no transfer is in two batches that are not reverted, and the reconciler
 * finds the books clean.
 */
@ExtendWith({LocalChainExtension.class, EmbeddedPostgresExtension.class})
class StandbyTakeoverIT {
    /** Generous for a loaded 2-core machine; a healthy run takes over in one or two seconds. */
    private static final Duration TAKEOVER_BOUND = Duration.ofSeconds(20);
    private static final int ACKS_BEFORE_FAILURE = 150;
    private static final Duration CHILD_WAIT = Duration.ofSeconds(90);

    private Address token;
    private SettlementVaultGateway vault;
    private long deploymentBlock;

    private Erc20Token erc20;

    private void deploy(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        erc20 = Erc20Token.deployTestToken(chain.client(), admin, "Takeover USD", "TUSD", 6);
        token = erc20.address();
        deploymentBlock = chain.client().blockNumber() + 1;
        vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                TakeoverWorkload.address(TakeoverWorkload.OPERATOR), Duration.ofDays(7));
        vault.listToken(admin, token, TokenLimits.UNLIMITED);
    }

    /** Deposits for every agent; only once the leader registered the token (an unregistered token's deposit is refused). */
    private void deposit(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        SettlementVaultGateway asAgents = new SettlementVaultGateway(chain.client(), vault.address());
        for (int account : TakeoverWorkload.AGENT_ACCOUNTS) {
            Signer agent = chain.account(account);
            erc20.mint(admin, agent.address(), TakeoverWorkload.DEPOSIT);
            asAgents.deposit(agent, token, TakeoverWorkload.DEPOSIT);
        }
    }

    private static String jdbcUrl(int port, DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return "jdbc:postgresql://127.0.0.1:" + port + "/" + c.getCatalog();
        }
    }

    private static LeadershipConfig standbyConfig() {
        return LeadershipConfig.defaults().withNodeId("standby").withAddress("standby:8080")
                .withPollInterval(Duration.ofMillis(200));
    }

    @Test
    void aLeaderKilledWithSigkillUnderLoadIsReplacedByTheStandbyAndNothingAcknowledgedIsLostOrSettledTwice(
            LocalChain chain, TestDatabases databases) throws Exception {
        deploy(chain);
        DataSource ds = databases.create();
        String url = jdbcUrl(databases.server().getPort(), ds);
        try (Child leader = new Child(url, chain.rpcUrl())) {
            leader.awaitLine("REGISTERED");
            deposit(chain);
            leader.awaitLine("CREDITED");
            try (Batcher standby = Batcher.start(TakeoverWorkload.config(url, chain.rpcUrl(), vault.address(),
                    deploymentBlock), standbyConfig(), DevAccounts.account(TakeoverWorkload.OPERATOR),
                    Clock.systemUTC(), new SimpleMeterRegistry())) {
                assertThat(standby.role()).as("a second process stands by").isEqualTo(Role.STANDBY);
                assertThatThrownBy(standby::ledger).isInstanceOf(NotLeaderException.class);
                assertThat(standby.leader()).get().satisfies(info -> assertThat(info.epoch()).isEqualTo(1));

                awaitUntil("the leader acknowledged transfers and confirmed a batch",
                        () -> leader.acked().size() >= ACKS_BEFORE_FAILURE && confirmedBatches(ds) >= 1);
                leader.process.destroyForcibly();
                long killedAt = System.nanoTime();
                assertThat(leader.process.waitFor(CHILD_WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                assertThat(leader.process.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);

                awaitUntil("the standby takes over", () -> standby.role() == Role.LEADER);
                Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
                System.out.println("TAKEOVER after SIGKILL: " + takeover.toMillis() + " ms");
                assertThat(takeover).isLessThan(TAKEOVER_BOUND);
                assertThat(standby.epoch()).isEqualTo(2);
                assertThat(standby.leader()).get().satisfies(info -> {
                    assertThat(info.epoch()).isEqualTo(2);
                    assertThat(info.address()).contains("standby:8080");
                });

                Set<Integer> acked = leader.acked();
                askAgainThroughTheNewLeader(standby.ledger(), acked, acked.stream().max(Integer::compare).orElseThrow() + 1);
                assertSettledOnceAndClean(chain, ds, standby);
            }
        }
    }

    @Test
    void aLeaderWhoseTrafficGoesSilentIsReplacedAndFencedWhenItComesBack(LocalChain chain, TestDatabases databases)
            throws Exception {
        deploy(chain);
        DataSource ds = databases.create();
        int port = databases.server().getPort();
        try (BlackholeProxy proxy = new BlackholeProxy("127.0.0.1", port)) {
            // The leader's heartbeat waits 30 s, far longer than the server keeps its silent lock
            // session (2 s): it cannot notice by itself before the standby leads, so its writes meet the epoch.
            LeadershipConfig leaderConfig = LeadershipConfig.defaults().withNodeId("leader").withAddress("leader:8080")
                    .withTimings(Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(2));
            SimpleMeterRegistry leaderMetrics = new SimpleMeterRegistry();
            try (Batcher leader = Batcher.start(TakeoverWorkload.config(
                            jdbcUrl(proxy.port(), ds) + "?socketTimeout=4&connectTimeout=3", chain.rpcUrl(),
                            vault.address(), deploymentBlock), leaderConfig,
                    DevAccounts.account(TakeoverWorkload.OPERATOR), Clock.systemUTC(), leaderMetrics)) {
                assertThat(leader.role()).isEqualTo(Role.LEADER);
                List<LeadershipChange> heardByLeader = new CopyOnWriteArrayList<>();
                leader.addLeadershipListener(heardByLeader::add);
                Ledger ledger = leader.ledger();
                ledger.registerToken(new Token(token, "TUSD", 6), "takeover-test", "takeover test token");
                deposit(chain);
                awaitUntil("the deposits are credited", () -> TakeoverWorkload.agents().stream().allMatch(agent ->
                        ledger.balance(dev.agentescrow.batcher.ledger.AccountKey.user(agent, token))
                                .map(b -> b.balance().equals(TakeoverWorkload.DEPOSIT.baseUnits())).orElse(false)));
                try (Batcher standby = Batcher.start(TakeoverWorkload.config(jdbcUrl(port, ds), chain.rpcUrl(),
                        vault.address(), deploymentBlock), standbyConfig(),
                        DevAccounts.account(TakeoverWorkload.OPERATOR), Clock.systemUTC(), new SimpleMeterRegistry())) {
                    assertThat(standby.role()).isEqualTo(Role.STANDBY);

                    Load load = new Load(ledger, leader);
                    awaitUntil("the leader acknowledged transfers and confirmed a batch",
                            () -> load.acked.size() >= ACKS_BEFORE_FAILURE && confirmedBatches(ds) >= 1);
                    proxy.blackhole();
                    long silentAt = System.nanoTime();
                    awaitUntil("the standby takes over", () -> standby.role() == Role.LEADER);
                    Duration takeover = Duration.ofNanos(System.nanoTime() - silentAt);
                    System.out.println("TAKEOVER after silence: " + takeover.toMillis() + " ms");
                    assertThat(takeover).isLessThan(TAKEOVER_BOUND);
                    assertThat(leader.role()).as("the old leader has not noticed yet").isEqualTo(Role.LEADER);

                    proxy.resume();
                    awaitUntil("the deposed leader is fenced and steps down", () -> heardByLeader.stream()
                            .anyMatch(c -> c.role() == Role.STANDBY && c.reason() == LeadershipChange.Reason.FENCED));
                    assertThat(leader.role()).isEqualTo(Role.STANDBY);
                    assertThat(leaderMetrics.counter("batcher.leadership.fenced").count()).isGreaterThanOrEqualTo(1);
                    assertThatThrownBy(leader::ledger).isInstanceOf(NotLeaderException.class);
                    load.stop();

                    askAgainThroughTheNewLeader(standby.ledger(), load.acked, load.next.get() + 1);
                    assertSettledOnceAndClean(chain, ds, standby);
                    assertThat(standby.epoch()).isEqualTo(2);
                }
            }
        }
    }

    /** Client retries: transfers 0..{@code upTo} again, through the new leader; each acknowledged one answers EXISTS. */
    private void askAgainThroughTheNewLeader(Ledger ledger, Set<Integer> acked, int upTo) {
        assertThat(acked).hasSizeGreaterThanOrEqualTo(ACKS_BEFORE_FAILURE);
        List<TransferRequest> all = TakeoverWorkload.transfers(upTo + 1, token);
        for (int from = 0; from < all.size(); from += 500) {
            List<TransferRequest> part = all.subList(from, Math.min(all.size(), from + 500));
            List<TransferResult> results = ledger.submit(part);
            for (int k = 0; k < part.size(); k++) {
                int i = from + k;
                assertThat(results.get(k).committed()).as("transfer %d: %s", i, results.get(k)).isTrue();
                if (acked.contains(i)) {
                    assertThat(results.get(k)).as("acknowledged transfer %d is in the ledger", i)
                            .isEqualTo(TransferResult.EXISTS);
                }
            }
        }
    }

    private void assertSettledOnceAndClean(LocalChain chain, DataSource ds, Batcher leader) throws SQLException {
        awaitUntil("everything settles", () -> count(ds, "SELECT count(*) FROM transfers"
                + " WHERE seq > (SELECT seq FROM settlement_watermark)") == 0
                && count(ds, "SELECT count(*) FROM settlement_batches WHERE state IN ('BUILT', 'SUBMITTED')") == 0);
        long last = vault.lastBatchId();
        assertThat(last).isPositive();
        List<BatchSettled> events = vault.batchesSettledBetween(deploymentBlock, chain.client().blockNumber());
        assertThat(events.stream().collect(Collectors.groupingBy(BatchSettled::batchId, Collectors.counting())))
                .as("one BatchSettled event per batch id")
                .isEqualTo(LongStream.rangeClosed(1, last).boxed().collect(Collectors.toMap(Function.identity(), id -> 1L)));
        assertThat(count(ds, "SELECT count(*) FROM settlement_batches WHERE state = 'CONFIRMED'")).isEqualTo(last);
        assertThat(count(ds, """
                SELECT count(*) FROM (SELECT m.transfer_id FROM settlement_batch_movements m
                    JOIN settlement_batches b ON b.row_id = m.batch_row_id
                    WHERE b.state <> 'REVERTED' GROUP BY m.transfer_id HAVING count(*) > 1) twice"""))
                .as("no transfer in two batches that are not reverted").isZero();
        Map<Address, BigInteger> users = LedgerTables.userBalances(ds, token);
        for (Map.Entry<Address, BigInteger> user : users.entrySet()) {
            assertThat(vault.settledBalance(token, user.getKey()).baseUnits()).as("settled balance of %s", user.getKey())
                    .isEqualTo(user.getValue());
        }
        AtomicReference<ReconciliationReport> report = new AtomicReference<>();
        awaitUntil("a reconciliation with no batch in flight", () -> {
            report.set(leader.reconcile());
            return !report.get().isSkipped();
        });
        assertThat(report.get().mismatches()).isEmpty();
    }

    private static long confirmedBatches(DataSource ds) {
        return count(ds, "SELECT count(*) FROM settlement_batches WHERE state = 'CONFIRMED'");
    }

    private static long count(DataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Submits the workload's transfers one by one through a leader, retrying one that fails while it still leads. */
    private final class Load {
        final Set<Integer> acked = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final Thread thread;

        Load(Ledger ledger, Batcher leader) {
            thread = Thread.ofPlatform().name("takeover-load").daemon(true).start(() -> {
                while (!stopped.get() && next.get() < TakeoverWorkload.MAX_TRANSFERS && leader.role() == Role.LEADER) {
                    int i = next.get();
                    try {
                        if (ledger.submit(TakeoverWorkload.transfer(i, token)).committed()) {
                            acked.add(i);
                        }
                        next.incrementAndGet();
                    } catch (LedgerException e) {
                        System.out.println("transfer " + i + " not acknowledged: " + e.getMessage());
                    }
                }
            });
        }

        void stop() throws InterruptedException {
            stopped.set(true);
            thread.join(CHILD_WAIT.toMillis());
            assertThat(thread.isAlive()).isFalse();
        }
    }

    /** The leader in a child JVM ({@link LeaderProcess}); its output is read line by line. */
    private final class Child implements AutoCloseable {
        private final Process process;
        private final List<String> lines = new CopyOnWriteArrayList<>();
        private final AtomicBoolean ended = new AtomicBoolean();

        Child(String jdbcUrl, String rpcUrl) throws IOException {
            List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                    "-XX:TieredStopAtLevel=1", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    LeaderProcess.class.getName(), jdbcUrl, rpcUrl, vault.address().hex(), token.hex(),
                    Long.toString(deploymentBlock)));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Thread.ofPlatform().daemon(true).name("leader-child-" + process.pid()).start(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("reading failed: " + e);
                } finally {
                    ended.set(true);
                }
            });
        }

        void awaitLine(String expected) {
            awaitUntil("the child prints " + expected, () -> {
                if (!process.isAlive() && !lines.contains(expected)) {
                    fail("child exited; output:%n%s", String.join("\n", lines));
                }
                return lines.contains(expected);
            });
        }

        /** The transfers the child acknowledged (printed before it died: a pipe keeps what was written). */
        Set<Integer> acked() {
            if (!process.isAlive()) {
                awaitUntil("the child's output is read to its end", ended::get);
            }
            return lines.stream().filter(line -> line.startsWith("ACK ")).map(line -> Integer.parseInt(line.substring(4)))
                    .collect(Collectors.toSet());
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(CHILD_WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }
}
