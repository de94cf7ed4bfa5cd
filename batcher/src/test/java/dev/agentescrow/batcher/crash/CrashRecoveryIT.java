package dev.agentescrow.batcher.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.settlement.FeePolicy;
import dev.agentescrow.batcher.support.FailPoints;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.LedgerTables;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.TxHash;
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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Crash recovery with real processes: the batcher runs in a child JVM ({@link BatcherProcess})
 * that stops at a named fail point and is killed with SIGKILL; a fresh child then finishes the
 * same phase. After every point the ledger holds every transfer once, every batch id has exactly
 * one {@code BatchSettled} event, and the chain agrees with the ledger to the unit. Finally two
 * children settle the same database at once and the advisory lock keeps their work apart.
 */
@ExtendWith({LocalChainExtension.class, EmbeddedPostgresExtension.class})
class CrashRecoveryIT {
    private static final Duration FAILPOINT_WAIT = Duration.ofSeconds(60);
    private static final Duration EXIT_WAIT = Duration.ofSeconds(90);
    private static final String EOF = "<end of output>";

    private String jdbcUrl;
    private String rpcUrl;
    private Address vaultAddress;
    private Address usd;
    private long startBlock;
    private long revertedRows;

    @Test
    void everyTransferSettlesExactlyOnceAfterASigkillAtEachNamedPoint(LocalChain chain, TestDatabases databases)
            throws Exception {
        Signer admin = chain.account(LocalChain.ADMIN);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Crash USD", "CUSD", 6);
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                CrashWorkload.address(CrashWorkload.OPERATOR), Duration.ofDays(7));
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        DataSource dataSource = databases.create();
        String database;
        try (Connection c = dataSource.getConnection()) {
            database = c.getCatalog();
        }
        jdbcUrl = databases.server().getJdbcUrl("postgres", database);
        rpcUrl = chain.rpcUrl();
        vaultAddress = vault.address();
        usd = token.address();
        startBlock = chain.client().blockNumber() + 1;

        // Deposits on chain: the agents and the two system holders (the vault knows only depositors).
        SettlementVaultGateway vaultAsAgents = new SettlementVaultGateway(chain.client(), vault.address());
        for (int account : CrashWorkload.AGENT_ACCOUNTS) {
            deposit(chain, token, vaultAsAgents, admin, account, CrashWorkload.DEPOSIT);
        }
        for (int account : List.of(CrashWorkload.FEE_COLLECTOR, CrashWorkload.ESCROW_HOLDER)) {
            deposit(chain, token, vaultAsAgents, admin, account, CrashWorkload.SYSTEM_DEPOSIT);
        }
        List<List<TransferRequest>> rounds = new ArrayList<>();

        // 1. Killed while indexing, after the first deposit is credited and before the checkpoint moves.
        crashThenRecover("deposit-index", 0, false, "indexer.mid-poll");
        assertLedger(dataSource, rounds);

        // 2. Killed after a transfer group commits and before its callers hear back.
        rounds.add(CrashWorkload.round(0, usd, true));
        crashThenRecover("transfers", 0, true, "ledger.after-commit");
        assertLedger(dataSource, rounds);

        // 3. Killed after a batch is built, after it is broadcast, and after its receipt is seen.
        crashThenRecover("settle", 0, false, "settlement.after-built");
        assertSettled(chain, dataSource, token, vault, rounds, 1);
        for (String point : List.of("settlement.after-broadcast", "settlement.before-confirm")) {
            int round = rounds.size();
            rounds.add(CrashWorkload.round(round, usd, true));
            runToCompletion("transfers", round, true);
            assertLedger(dataSource, rounds);
            crashThenRecover("settle", 0, false, point);
            assertSettled(chain, dataSource, token, vault, rounds, round + 1);
        }

        // 4. The refuse path (F2): killed after a batch is signed and stored, the vault is paused, and
        // the stored transaction, sent on restart, fails; killed again just before the refusal (one
        // transaction: nothing of it happened) and just after it (all of it happened).
        refusePath(chain, dataSource, token, vault, admin, rounds);

        // 5. The replacement path: a batch stuck under a rising base fee is replaced at its nonce;
        // killed after the replacement is stored and before it is broadcast. The restart sends the
        // stored replacement (only stored bytes are ever sent) and it confirms the batch once.
        replacementPath(chain, dataSource, token, vault, rounds);

        // 6. Two submitters on one database at once: one holds the advisory lock at a time.
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + BatcherProcess.LOCK_TICKS_TABLE
                    + " (pid BIGINT NOT NULL, outcome TEXT NOT NULL, acquired_at TIMESTAMP NOT NULL,"
                    + " released_at TIMESTAMP NOT NULL)");
        }
        int lockRound = rounds.size();
        rounds.add(CrashWorkload.round(lockRound, usd, false));
        runToCompletion("transfers", lockRound, false);
        long batchesBefore = vault.lastBatchId();
        Set<Long> pids = new HashSet<>();
        try (Child first = new Child("settle-loop-for-lock-test", lockRound, false, null);
             Child second = new Child("settle-loop-for-lock-test", lockRound, false, null)) {
            pids.add(first.process.pid());
            pids.add(second.process.pid());
            first.awaitSuccess();
            second.awaitSuccess();
        }
        assertSettled(chain, dataSource, token, vault, rounds, rounds.size() - 1);
        List<LockTick> ticks = lockTicks(dataSource);
        assertThat(ticks).isNotEmpty().allSatisfy(tick -> assertThat(pids).contains(tick.pid()));
        for (int i = 1; i < ticks.size(); i++) {
            assertThat(ticks.get(i).acquiredAt()).as("tick %d starts after tick %d released the lock", i, i - 1)
                    .isAfterOrEqualTo(ticks.get(i - 1).releasedAt());
        }
        assertThat(vault.lastBatchId() - batchesBefore).as("the lock round needs several batches").isGreaterThan(1);
        assertThat(ticks.stream().filter(tick -> tick.outcome().equals("CONFIRMED")).count())
                .as("each new batch confirmed by exactly one tick of one process")
                .isEqualTo(vault.lastBatchId() - batchesBefore);
    }

    private void refusePath(LocalChain chain, DataSource dataSource, Erc20Token token, SettlementVaultGateway vault,
                            Signer admin, List<List<TransferRequest>> rounds) throws Exception {
        int round = rounds.size();
        rounds.add(CrashWorkload.round(round, usd, true));
        runToCompletion("transfers", round, true);
        crash("settle", "settlement.after-signed");
        assertThat(batchStates(dataSource)).containsEntry("SUBMITTED", 1L);
        String unclaimedSql = "SELECT count(*) FROM transfers t WHERE t.seq > (SELECT seq FROM settlement_watermark)"
                + " AND NOT EXISTS (SELECT 1 FROM settlement_batch_movements m WHERE m.transfer_id = t.id"
                + " AND NOT m.reverted)";
        long unclaimed = count(dataSource, unclaimedSql);
        vault.pause(admin);

        crash("settle", "settlement.before-refuse");
        assertThat(batchStates(dataSource)).as("nothing of the refusal happened").containsEntry("SUBMITTED", 1L)
                .doesNotContainKey("REVERTED");
        assertThat(count(dataSource, unclaimedSql)).as("the batch's movements are still claimed").isEqualTo(unclaimed);

        crash("settle", "settlement.after-refuse");
        revertedRows++;
        assertThat(batchStates(dataSource)).as("all of the refusal happened").containsEntry("REVERTED", revertedRows)
                .doesNotContainKey("SUBMITTED");
        assertThat(count(dataSource, unclaimedSql)).as("the movements are released").isGreaterThan(unclaimed);
        assertThat(count(dataSource, "SELECT count(*) FROM settlement_quarantine")).isZero();

        vault.unpause(admin);
        runToCompletion("settle", 0, false);
        assertSettled(chain, dataSource, token, vault, rounds, round + 1);
    }

    private void replacementPath(LocalChain chain, DataSource dataSource, Erc20Token token,
                                 SettlementVaultGateway vault, List<List<TransferRequest>> rounds) throws Exception {
        int round = rounds.size();
        rounds.add(CrashWorkload.round(round, usd, true));
        runToCompletion("transfers", round, true);
        ChainClient client = chain.client();
        BigInteger quietBaseFee = client.feeMarket().baseFeePerGas();
        BigInteger busy = BigInteger.valueOf(20).multiply(BigInteger.TEN.pow(9));
        client.rawRequest("evm_setAutomine", List.of(false));
        try {
            try (Child doomed = new Child("settle", 0, false, "settlement.after-replacement-stored")) {
                doomed.awaitLine("TICK SUBMITTED");
                for (int block = 0; block < FeePolicy.DEFAULT_REPLACE_AFTER_BLOCKS; block++) {
                    mine(client, busy);
                }
                nextBaseFee(client, busy);
                doomed.awaitLine("FAILPOINT settlement.after-replacement-stored");
                kill(doomed);
            }
            List<StoredTransaction> stored = openTransactions(dataSource);
            assertThat(stored).hasSize(2);
            assertThat(stored.get(1).nonce()).as("replaced at the same nonce").isEqualTo(stored.get(0).nonce());
            assertThat(client.receipt(stored.get(0).txHash())).as("the first is stuck").isEmpty();
            assertThat(known(client, stored.get(1).txHash())).as("the replacement never left the process").isFalse();

            try (Child restarted = new Child("settle", 0, false, null)) {
                restarted.awaitLine("TICK SUBMITTED");
                assertThat(known(client, stored.get(1).txHash())).as("the stored replacement was sent").isTrue();
                mine(client, busy);
                nextBaseFee(client, quietBaseFee);
                client.rawRequest("evm_setAutomine", List.of(true));
                client.rawRequest("evm_mine", List.of());
                restarted.awaitSuccess();
            }
            assertThat(count(dataSource, "SELECT count(*) FROM settlement_batches WHERE state = 'CONFIRMED' "
                    + "AND confirmed_tx_hash = '" + stored.get(1).txHash().value() + "'"))
                    .as("the replacement confirmed its batch").isEqualTo(1);
            assertThat(client.receipt(stored.get(0).txHash())).as("the replaced bytes were never mined").isEmpty();
        } finally {
            client.rawRequest("evm_setAutomine", List.of(true));
        }
        assertSettled(chain, dataSource, token, vault, rounds, round + 1);
    }

    private static void mine(ChainClient client, BigInteger baseFee) {
        nextBaseFee(client, baseFee);
        client.rawRequest("evm_mine", List.of());
    }

    private static void nextBaseFee(ChainClient client, BigInteger weiPerGas) {
        client.rawRequest("hardhat_setNextBlockBaseFeePerGas", List.of("0x" + weiPerGas.toString(16)));
    }

    private static boolean known(ChainClient client, TxHash txHash) throws IOException {
        return client.web3j().ethGetTransactionByHash(txHash.value()).send().getTransaction().isPresent();
    }

    private record StoredTransaction(TxHash txHash, long nonce) {
    }

    /** The signed transactions of the open batch row, in signing order. */
    private static List<StoredTransaction> openTransactions(DataSource dataSource) throws SQLException {
        List<StoredTransaction> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     SELECT t.tx_hash, t.nonce FROM settlement_transactions t
                     JOIN settlement_batches b ON b.row_id = t.batch_row_id
                     WHERE b.state IN ('BUILT', 'SUBMITTED') ORDER BY t.position""");
             ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(new StoredTransaction(new TxHash(rs.getString(1)), rs.getLong(2)));
            }
        }
        return out;
    }

    private static void deposit(LocalChain chain, Erc20Token token, SettlementVaultGateway vault, Signer admin,
                                int account, Amount amount) {
        Signer holder = chain.account(account);
        token.mint(admin, holder.address(), amount);
        vault.deposit(holder, token.address(), amount);
    }

    /** Runs the phase with the point armed, kills the child there, then finishes the phase in a fresh child. */
    private void crashThenRecover(String phase, int round, boolean withdrawal, String point) throws Exception {
        try (Child doomed = new Child(phase, round, withdrawal, point)) {
            doomed.awaitLine("FAILPOINT " + point);
            kill(doomed);
        }
        runToCompletion(phase, round, withdrawal);
    }

    /** Runs a settle phase with {@code point} armed and kills the child there. */
    private void crash(String phase, String point) throws Exception {
        try (Child doomed = new Child(phase, 0, false, point)) {
            doomed.awaitLine("FAILPOINT " + point);
            kill(doomed);
        }
    }

    private static void kill(Child doomed) throws InterruptedException {
        doomed.process.destroyForcibly();
        assertThat(doomed.process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(doomed.process.isAlive()).isFalse();
        assertThat(doomed.process.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);
    }

    private void runToCompletion(String phase, int round, boolean withdrawal) throws Exception {
        try (Child child = new Child(phase, round, withdrawal, null)) {
            child.awaitSuccess();
        }
    }

    private void assertLedger(DataSource dataSource, List<List<TransferRequest>> rounds) throws SQLException {
        assertThat(LedgerTables.userBalances(dataSource, usd)).isEqualTo(CrashWorkload.expectedUsers(rounds, usd));
        List<UUID> ids = rounds.stream().flatMap(List::stream).map(request -> request.id().toUuid()).toList();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM transfers WHERE id = ANY(?)")) {
            s.setArray(1, c.createArrayOf("uuid", ids.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(1)).as("every acknowledged or committed transfer once").isEqualTo(ids.size());
            }
        }
    }

    private void assertSettled(LocalChain chain, DataSource dataSource, Erc20Token token,
                               SettlementVaultGateway vault, List<List<TransferRequest>> rounds, int withdrawals)
            throws SQLException {
        assertLedger(dataSource, rounds);
        long lastBatchId = vault.lastBatchId();
        assertThat(lastBatchId).isPositive();
        List<BatchSettled> events = vault.batchesSettledBetween(startBlock, chain.client().blockNumber());
        assertThat(events.stream().collect(Collectors.groupingBy(BatchSettled::batchId, Collectors.counting())))
                .as("one BatchSettled event per batch id")
                .isEqualTo(LongStream.rangeClosed(1, lastBatchId).boxed()
                        .collect(Collectors.toMap(Function.identity(), id -> 1L)));
        assertThat(batchStates(dataSource)).isEqualTo(revertedRows == 0 ? Map.of("CONFIRMED", lastBatchId)
                : Map.of("CONFIRMED", lastBatchId, "REVERTED", revertedRows));
        assertThat(count(dataSource, "SELECT count(*) FROM transfers WHERE reference LIKE 'payout:%'"))
                .as("one payout per withdrawal").isEqualTo(withdrawals);

        Map<Address, BigInteger> users = LedgerTables.userBalances(dataSource, usd);
        BigInteger settledTotal = BigInteger.ZERO;
        for (Map.Entry<Address, BigInteger> user : users.entrySet()) {
            BigInteger onChain = vault.settledBalance(usd, user.getKey()).baseUnits();
            assertThat(onChain).as("settled balance of %s", user.getKey()).isEqualTo(user.getValue());
            settledTotal = settledTotal.add(onChain);
        }
        BigInteger paidOut = BigInteger.ZERO;
        BigInteger pending = BigInteger.ZERO;
        for (Address agent : CrashWorkload.agents()) {
            BigInteger owed = vault.pendingPayout(usd, agent).baseUnits();
            pending = pending.add(owed);
            paidOut = paidOut.add(token.balanceOf(agent).baseUnits()).add(owed);
        }
        assertThat(paidOut).as("every withdrawal paid once")
                .isEqualTo(CrashWorkload.WITHDRAWAL.baseUnits().multiply(BigInteger.valueOf(withdrawals)));
        assertThat(token.balanceOf(vault.address()).baseUnits()).isEqualTo(settledTotal.add(pending));

        ReconciliationReport report = new Reconciler(chain.client(), vault,
                new ResilientRpc("reconciler", RpcResilienceConfig.defaults()), new LedgerExpectedBalances(dataSource),
                startBlock, Clock.systemUTC(), new SimpleMeterRegistry()).reconcile(List.of(usd));
        assertThat(report.mismatches()).isEmpty();
        assertThat(report.tokens().getFirst().settledSum()).isEqualTo(settledTotal);
    }


    private static Map<String, Long> batchStates(DataSource dataSource) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT state, count(*) FROM settlement_batches GROUP BY state");
             ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private static long count(DataSource dataSource, String sql) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement(sql);
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private record LockTick(long pid, String outcome, Timestamp acquiredAt, Timestamp releasedAt) {
    }

    private static List<LockTick> lockTicks(DataSource dataSource) throws SQLException {
        List<LockTick> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT pid, outcome, acquired_at, released_at FROM "
                     + BatcherProcess.LOCK_TICKS_TABLE + " ORDER BY acquired_at");
             ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(new LockTick(rs.getLong(1), rs.getString(2), rs.getTimestamp(3), rs.getTimestamp(4)));
            }
        }
        return out;
    }

    /** A child JVM running one phase; its output is read line by line on a daemon thread. */
    private final class Child implements AutoCloseable {
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final StringBuffer output = new StringBuffer();

        Child(String phase, int round, boolean withdrawal, String failPoint) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(ProcessHandle.current().info().command().orElseThrow());
            command.add("-XX:TieredStopAtLevel=1");
            command.add("-Xmx256m");
            if (failPoint != null) {
                command.add("-D" + FailPoints.PROPERTY + "=" + failPoint);
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), BatcherProcess.class.getName(),
                    jdbcUrl, rpcUrl, vaultAddress.hex(), usd.hex(), Long.toString(startBlock), phase,
                    Integer.toString(round), Boolean.toString(withdrawal)));
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Thread reader = new Thread(this::read, "child-" + process.pid());
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.append(line).append('\n');
                    lines.add(line);
                }
            } catch (IOException e) {
                output.append("reading failed: ").append(e).append('\n');
            } finally {
                lines.add(EOF);
            }
        }

        void awaitLine(String expected) throws InterruptedException {
            long deadline = System.nanoTime() + FAILPOINT_WAIT.toNanos();
            while (true) {
                String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || line.equals(EOF)) {
                    fail("child never printed '%s'; output:%n%s", expected, output);
                }
                if (line.equals(expected)) {
                    return;
                }
            }
        }

        void awaitSuccess() throws InterruptedException {
            if (!process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS)) {
                fail("child did not finish in %s; output:%n%s", EXIT_WAIT, output);
            }
            assertThat(process.exitValue()).as("exit code; output:%n%s", output).isZero();
            assertThat(output.toString()).contains("DONE ");
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(EXIT_WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }
}
