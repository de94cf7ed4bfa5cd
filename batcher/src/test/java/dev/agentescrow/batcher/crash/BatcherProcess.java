package dev.agentescrow.batcher.crash;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.indexer.VaultIndexer;
import dev.agentescrow.batcher.indexer.IndexerSettings;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.indexer.db.PostgresCheckpointStore;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TokenRegistration;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.settlement.BatchPlanner;
import dev.agentescrow.batcher.settlement.BatchSubmitter;
import dev.agentescrow.batcher.settlement.BatchTrigger;
import dev.agentescrow.batcher.settlement.SettlementChain;
import dev.agentescrow.batcher.settlement.SingleSubmitterLock;
import dev.agentescrow.batcher.settlement.TickResult;
import dev.agentescrow.batcher.settlement.db.PostgresAdvisoryLock;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;

/**
 * The batcher as a separate process for {@link CrashRecoveryIT}: runs one phase against the
 * shared database and chain and exits 0 when it is done. With {@code -Dbatcher.failpoint=<name>}
 * it stops at that point instead, and the test kills it with SIGKILL.
 *
 * <p>Arguments: JDBC URL, RPC URL, vault address, token address, indexer start block, phase
 * ({@code deposit-index}, {@code transfers}, {@code settle}, {@code settle-loop-for-lock-test}),
 * round (the transfers phase's round) and whether that round withdraws.
 */
public final class BatcherProcess {
    static final String LOCK_TICKS_TABLE = "crash_lock_ticks";
    private static final int MAX_TICKS = 60;
    private static final Duration LOCK_WAIT_LIMIT = Duration.ofSeconds(60);
    private static final int MOVEMENTS_PER_BATCH = 4;

    private BatcherProcess() {
    }

    public static void main(String[] args) throws Exception {
        String jdbcUrl = args[0];
        String rpcUrl = args[1];
        Address vaultAddress = Address.of(args[2]);
        Address token = Address.of(args[3]);
        long startBlock = Long.parseLong(args[4]);
        String phase = args[5];
        int round = Integer.parseInt(args[6]);
        boolean withdrawal = Boolean.parseBoolean(args[7]);
        Clock clock = Clock.systemUTC();
        LedgerConfig config = LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused")));
        if (phase.equals("settle-loop-for-lock-test")) {
            // The ledger allows one writer per database. The lock test's round has no withdrawals, so
            // its submitters never write to the ledger; each takes a writer lock of its own so that
            // both processes run at once and only the submitter lock keeps them apart.
            config = new LedgerConfig(config.database(), config.queueCapacity(), config.maxGroupSize(),
                    config.maxSubmissionSize(), config.maxTimeoutSeconds(), config.enqueueTimeout(),
                    config.advisoryLockKey() + ProcessHandle.current().pid(), config.checkpointEveryGroups(),
                    config.checkpointMaxAccounts());
        }
        HikariConfig hikari = new HikariConfig();
        hikari.setJdbcUrl(jdbcUrl);
        hikari.setMaximumPoolSize(4);
        hikari.setConnectionInitSql("SET synchronous_commit = on");
        try (HikariDataSource dataSource = new HikariDataSource(hikari);
             ChainClient client = ChainClient.connect(ChainSettings.local(rpcUrl));
             Ledger ledger = Ledger.start(dataSource, config, clock)) {
            if (phase.equals("deposit-index") && ledger.registerToken(new Token(token, "CUSD", 6), "crash-test",
                    "crash test token") == TokenRegistration.CONFLICT) {
                throw new IllegalStateException("token " + token + " registered with other metadata");
            }
            SettlementVaultGateway vault = new SettlementVaultGateway(client, vaultAddress);
            switch (phase) {
                case "deposit-index" -> indexDeposits(client, vault, dataSource, ledger, clock, startBlock);
                case "transfers" -> transfers(ledger, CrashWorkload.round(round, token, withdrawal));
                case "settle" -> settle(client, vault, dataSource, ledger, clock, false);
                case "settle-loop-for-lock-test" -> settle(client, vault, dataSource, ledger, clock, true);
                default -> throw new IllegalArgumentException("unknown phase " + phase);
            }
        }
        System.out.println("DONE " + phase);
        System.out.flush();
        System.exit(0);
    }

    private static void indexDeposits(ChainClient client, SettlementVaultGateway vault, DataSource dataSource,
                                      Ledger ledger, Clock clock, long startBlock) {
        VaultIndexer indexer = new VaultIndexer(client, vault,
                new ResilientRpc("indexer", RpcResilienceConfig.defaults()),
                new PostgresCheckpointStore(dataSource, clock), new LedgerVaultEventSink(ledger),
                new IndexerSettings(0, startBlock, 1_000));
        VaultIndexer.PollResult result = indexer.poll();
        System.out.println("INDEXED credited=" + result.credited() + " alreadyBooked=" + result.alreadyBooked()
                + " rejected=" + result.rejected());
    }

    private static void transfers(Ledger ledger, List<TransferRequest> requests) {
        List<TransferResult> results = ledger.submit(requests);
        for (int i = 0; i < requests.size(); i++) {
            if (!results.get(i).committed()) {
                throw new IllegalStateException("transfer " + requests.get(i).id() + ": " + results.get(i));
            }
            System.out.println("ACK " + requests.get(i).id() + " " + results.get(i));
        }
    }

    private static void settle(ChainClient client, SettlementVaultGateway vault, DataSource dataSource, Ledger ledger,
                               Clock clock, boolean lockTest) throws SQLException {
        SettlementAddresses addresses = new SettlementAddresses(CrashWorkload.address(CrashWorkload.FEE_COLLECTOR),
                CrashWorkload.address(CrashWorkload.ESCROW_HOLDER));
        PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger, addresses, clock);
        Signer operator = client.signer(DevAccounts.account(CrashWorkload.OPERATOR));
        SettlementChain chain = new SettlementChain(client, vault, operator,
                new ResilientRpc("submitter", RpcResilienceConfig.defaults()));
        RecordingLock lock = new RecordingLock(new PostgresAdvisoryLock(dataSource), dataSource);
        BatchSubmitter submitter = new BatchSubmitter(chain, store, store, lock,
                new BatchTrigger(1, Duration.ofSeconds(1), clock), new BatchPlanner(MOVEMENTS_PER_BATCH));
        long deadline = System.nanoTime() + LOCK_WAIT_LIMIT.toNanos();
        int workTicks = 0;
        TickResult.Outcome previous = null;
        while (!(store.backlog().isEmpty() && store.openBatches().isEmpty())) {
            TickResult result = submitter.tick();
            if (result.outcome() == TickResult.Outcome.NOT_LEADER) {
                // The other child holds the lock, or the server has not yet ended a killed child's session.
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not take the submitter lock in " + LOCK_WAIT_LIMIT);
                }
                continue;
            }
            if (result.outcome() == TickResult.Outcome.PENDING) {
                // With automine off the test mines the blocks: ticks that wait for one are bounded in time.
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no block took the batch in " + LOCK_WAIT_LIMIT);
                }
            } else if (workTicks++ >= MAX_TICKS) {
                throw new IllegalStateException("not settled after " + MAX_TICKS + " ticks");
            }
            if (lockTest) {
                lock.record(ProcessHandle.current().pid(), result.outcome());
            }
            if (result.outcome() != previous || result.outcome() != TickResult.Outcome.PENDING) {
                System.out.println("TICK " + result.outcome());
                System.out.flush();
            }
            previous = result.outcome();
        }
    }

    /** The advisory lock, remembering the database time just after acquiring and just before releasing. */
    private static final class RecordingLock implements SingleSubmitterLock {
        private final SingleSubmitterLock delegate;
        private final DataSource dataSource;
        private Timestamp acquiredAt;
        private Timestamp releasedAt;

        RecordingLock(SingleSubmitterLock delegate, DataSource dataSource) {
            this.delegate = delegate;
            this.dataSource = dataSource;
        }

        @Override
        public boolean tryAcquire() {
            boolean acquired = delegate.tryAcquire();
            if (acquired) {
                acquiredAt = now();
            }
            return acquired;
        }

        @Override
        public void release() {
            releasedAt = now();
            delegate.release();
        }

        void record(long pid, TickResult.Outcome outcome) throws SQLException {
            try (Connection c = dataSource.getConnection();
                 PreparedStatement s = c.prepareStatement("INSERT INTO " + LOCK_TICKS_TABLE
                         + " (pid, outcome, acquired_at, released_at) VALUES (?, ?, ?, ?)")) {
                s.setLong(1, pid);
                s.setString(2, outcome.name());
                s.setTimestamp(3, acquiredAt);
                s.setTimestamp(4, releasedAt);
                s.executeUpdate();
            }
        }

        private Timestamp now() {
            try (Connection c = dataSource.getConnection();
                 PreparedStatement s = c.prepareStatement("SELECT clock_timestamp()::timestamp");
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getTimestamp(1);
            } catch (SQLException e) {
                throw new IllegalStateException("could not read the database clock", e);
            }
        }
    }
}
