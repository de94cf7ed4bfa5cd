package dev.agentescrow.batcher.runtime;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.command.AgentCommands;
import dev.agentescrow.batcher.command.ServiceCommands;
import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.forced.ForcedWithdrawalIndexer;
import dev.agentescrow.batcher.forced.ForcedWithdrawalServing;
import dev.agentescrow.batcher.indexer.IndexerSettings;
import dev.agentescrow.batcher.indexer.VaultIndexer;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.indexer.db.PostgresCheckpointStore;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.LedgerMetrics;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.merkle.SettlementTransferId;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.reconcile.VaultHealthCheck;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.settlement.BatchPlanner;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.BatchSubmitter;
import dev.agentescrow.batcher.settlement.BatchTrigger;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.SettlementChain;
import dev.agentescrow.batcher.settlement.SettlementMetrics;
import dev.agentescrow.batcher.settlement.TickResult;
import dev.agentescrow.batcher.settlement.db.PostgresAdvisoryLock;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.vault.ForcedWithdrawalRequest;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;

/**
 * The batcher assembled and running: the database (embedded unless a JDBC URL is configured),
 * the ledger, the vault indexer, the settlement submitter and the reconciler, driven by one
 * {@link BatcherScheduler}. This is what a service embeds: it submits transfers through
 * {@link #ledger()}, asks for {@link #proof inclusion proofs} and {@link #reconcile reconciles}
 * on demand; everything else happens on the schedule.
 *
 * <p>Steps (each on the scheduler's one thread, so that none overlaps another):
 * <ul>
 *   <li>{@code index}: one {@link VaultIndexer#poll()}: deposits credited, escapes debited; then one
 *       {@link ForcedWithdrawalIndexer#poll()}: forced withdrawals requested on chain booked as
 *       withdrawals (which the next batch serves, {@link ForcedWithdrawalServing}) and watched until
 *       served, with an alarm as a deadline nears;</li>
 *   <li>{@code settle}: submitter ticks, one after another while each confirms a batch (at most
 *       {@value #MAX_TICKS_PER_TURN} per turn), so a backlog drains without waiting a turn per batch;</li>
 *   <li>{@code expire}: {@link Ledger#expirePending()} until nothing is left to expire;</li>
 *   <li>{@code reconcile}: the vault against the ledger for every registered token, skipped while a
 *       batch is in flight (sent, not yet confirmed: it would show as mismatches until it confirms); custody events on chain
 *       that the indexer has not booked yet (deposits waiting for their confirmations) count as
 *       expected ({@link VaultIndexer#unbookedCustody}); then the {@link VaultHealthCheck} (frozen vault,
 *       a token balance that moved without an event), see {@link #vaultHealth()}.</li>
 * </ul>
 * One ledger writer may run per database; other processes may share the database for reads.
 *
 * <p>Start fails, with everything it started stopped again, when the database or the node cannot
 * be reached.
 */
public final class Batcher implements AutoCloseable {
    /** The operator's ETH below which {@code settlement.operator.balance.low} is raised: 0.05 ETH. */
    static final java.math.BigInteger LOW_OPERATOR_BALANCE_WEI = new java.math.BigInteger("50000000000000000");

    private static final Logger log = LoggerFactory.getLogger(Batcher.class);
    static final int MAX_TICKS_PER_TURN = 32;
    private static final int MAX_EXPIRE_ROUNDS_PER_TURN = 64;

    /** The lane of the reconciler: its RPC reads never delay index or settle (F6). */
    static final String RECONCILE_LANE = "reconcile";

    private final Database database;
    private final Ledger ledger;
    private final ChainClient client;
    private final PostgresSettlementStore store;
    private final BatchSubmitter submitter;
    private final Reconciler reconciler;
    private final VaultIndexer indexer;
    private final int maxGroupSize;
    private final AtomicReference<ReconciliationReport> lastReconciliation = new AtomicReference<>();
    private final AtomicReference<VaultHealthCheck.VaultHealth> lastVaultHealth = new AtomicReference<>();
    private final ForcedWithdrawalIndexer forcedWithdrawals;
    private final VaultHealthCheck healthCheck;
    private BatcherScheduler scheduler;
    private Clock clock = Clock.systemUTC();
    private LedgerReads reads;
    private AgentCommands agentCommands;
    private ServiceCommands serviceCommands;

    private Batcher(Database database, Ledger ledger, ChainClient client, VaultIndexer indexer,
                    PostgresSettlementStore store, BatchSubmitter submitter, Reconciler reconciler, int maxGroupSize,
                    ForcedWithdrawalIndexer forcedWithdrawals, VaultHealthCheck healthCheck) {
        this.forcedWithdrawals = forcedWithdrawals;
        this.healthCheck = healthCheck;
        this.database = database;
        this.ledger = ledger;
        this.client = client;
        this.indexer = indexer;
        this.store = store;
        this.submitter = submitter;
        this.reconciler = reconciler;
        this.maxGroupSize = maxGroupSize;
    }

    /**
     * Starts the database, the ledger (migrating the schema) and the chain connection, then the
     * schedule. Whatever started is stopped again if a later part fails.
     *
     * @param operator the key holding the vault's operator role; it signs settlement batches
     */
    public static Batcher start(BatcherConfig config, Credentials operator, Clock clock, MeterRegistry registry) {
        Objects.requireNonNull(config, "config");
        Database database = Database.start(config.database());
        try {
            return start(database.dataSource(), database, config, LedgerConfig.defaults(config.database()), operator,
                    clock, registry);
        } catch (RuntimeException e) {
            database.close();
            throw e;
        }
    }

    /**
     * Starts the batcher on the service's own pool (issue 11): the service owns {@code dataSource}
     * and closes it after {@link #close()}, which never does; {@code config.database()} is not used.
     * The ledger runs with {@code ledgerConfig} (the service's settings), settlement batches are
     * signed with {@code operator} (the key from the service's configuration). The pool needs
     * room for the ledger writer's own connection, the submitter's lock connection and the reads.
     */
    public static Batcher start(DataSource dataSource, BatcherConfig config, LedgerConfig ledgerConfig,
                                Credentials operator, Clock clock, MeterRegistry registry) {
        return start(Objects.requireNonNull(dataSource, "dataSource"), null, config, ledgerConfig, operator, clock,
                registry);
    }

    private static Batcher start(DataSource dataSource, Database database, BatcherConfig config,
                                 LedgerConfig ledgerConfig, Credentials operator, Clock clock, MeterRegistry registry) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(ledgerConfig, "ledgerConfig");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(registry, "registry");
        List<AutoCloseable> started = new ArrayList<>();
        try {
            Ledger ledger = Ledger.start(dataSource, ledgerConfig, clock, new LedgerMetrics(registry));
            started.add(ledger);
            ChainClient client = ChainClient.connect(config.chain());
            started.add(client);

            SettlementVaultGateway vault = new SettlementVaultGateway(client, config.vault());
            VaultIndexer indexer = new VaultIndexer(client, vault, new ResilientRpc("indexer", config.rpc()),
                    new PostgresCheckpointStore(dataSource, clock), new LedgerVaultEventSink(ledger),
                    new IndexerSettings(config.confirmations(), config.vaultDeploymentBlock(),
                            config.maxBlocksPerPoll()));
            PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger,
                    config.systemAccounts(), clock);
            SettlementChain chain = new SettlementChain(client, vault, client.signer(operator),
                    new ResilientRpc("submitter", config.rpc()));
            BatchSubmitter submitter = new BatchSubmitter(chain, store, store,
                    new PostgresAdvisoryLock(dataSource),
                    new BatchTrigger(config.transfersPerBatch(), config.maxBatchDelay(), clock),
                    BatchPlanner.withDefaults(), new SettlementMetrics(registry)
                            .withLowBalanceAlarm(LOW_OPERATOR_BALANCE_WEI),
                    config.batchConfirmationDepth(), new ForcedWithdrawalServing(vault, new ResilientRpc("forced-serving", config.rpc())));
            Reconciler reconciler = new Reconciler(client, vault, new ResilientRpc("reconciler", config.rpc()),
                    new LedgerExpectedBalances(dataSource).plus(indexer::unbookedCustody),
                    config.vaultDeploymentBlock(), clock, registry);

            ForcedWithdrawalIndexer forcedWithdrawals = new ForcedWithdrawalIndexer(client, vault,
                    new ResilientRpc("forced-withdrawals", config.rpc()), ledger,
                    new IndexerSettings(config.confirmations(), config.vaultDeploymentBlock(),
                            config.maxBlocksPerPoll()), registry);
            VaultHealthCheck healthCheck = new VaultHealthCheck(client, vault,
                    new ResilientRpc("vault-health", config.rpc()), clock, registry);
            Batcher batcher = new Batcher(database, ledger, client, indexer, store, submitter, reconciler,
                    ledgerConfig.maxGroupSize(), forcedWithdrawals, healthCheck);
            batcher.clock = clock;
            LedgerReads reads = new LedgerReads(dataSource);
            batcher.reads = reads;
            batcher.agentCommands = new AgentCommands(ledger, reads);
            batcher.serviceCommands = new ServiceCommands(ledger, reads);
            BatcherConfig.Schedule schedule = config.schedule();
            batcher.scheduler = BatcherScheduler.start(List.of(
                    new BatcherScheduler.Step("index", schedule.index(), batcher::indexOnce),
                    new BatcherScheduler.Step("settle", schedule.settle(), batcher::settleOnce),
                    new BatcherScheduler.Step("expire", schedule.expire(), batcher::expireOnce),
                    new BatcherScheduler.Step("reconcile", schedule.reconcile(), batcher::reconcileIfIdle,
                            RECONCILE_LANE)),
                    registry);
            log.info("batcher started: vault {}, operator {}, trigger N={} T={}", config.vault(),
                    chain.operator().address(), config.transfersPerBatch(), config.maxBatchDelay());
            return batcher;
        } catch (RuntimeException e) {
            for (AutoCloseable resource : started.reversed()) {
                try {
                    resource.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** The ledger: transfers, holds, withdrawals, balances. */
    public Ledger ledger() {
        return ledger;
    }

    /** Reads of balances, transfers, history, holds, withdrawals, batches and totals (any instance can make its own). */
    public LedgerReads reads() {
        return reads;
    }

    /** The agents' command layer: the only one a client request may reach. */
    public AgentCommands agentCommands() {
        return agentCommands;
    }

    /** Rule-driven movements with an audit row each: never reachable from a client request. */
    public ServiceCommands serviceCommands() {
        return serviceCommands;
    }

    /** The inclusion proof of a settled movement, once its batch is confirmed. */
    public Optional<InclusionProof> proof(SettlementTransferId transferId) {
        return submitter.proof(transferId);
    }

    /** Blocks a batch's receipt must be deep before it is confirmed, as configured (F8). */
    public int batchConfirmationDepth() {
        return submitter.confirmationDepth();
    }

    /** The report of the last reconciliation (scheduled or on demand), if any ran. */
    public Optional<ReconciliationReport> lastReconciliation() {
        return Optional.ofNullable(lastReconciliation.get());
    }

    /** The vault's state at the last reconciliation step (frozen? token balances moved without an event?), if any ran. */
    public Optional<VaultHealthCheck.VaultHealth> vaultHealth() {
        return Optional.ofNullable(lastVaultHealth.get());
    }

    /** The forced withdrawals the vault still has open, as the last index step saw them. */
    public List<ForcedWithdrawalRequest> openForcedWithdrawals() {
        return scheduler.runNow(forcedWithdrawals::openRequests);
    }

    /**
     * Reconciles every registered token now, on the reconciler's own thread (between its scheduled
     * runs, beside settlement), and returns the report. While a batch is SUBMITTED, or if one
     * changes state during the run, nothing is judged: the report is
     * {@link ReconciliationReport#isSkipped() skipped} and names the batch in flight (F6).
     */
    public ReconciliationReport reconcile() {
        return scheduler.runNow(RECONCILE_LANE, this::reconcileUnlessInFlight);
    }

    /** Runs one submitter turn now, between steps, and returns its last tick (for operations and tests). */
    public TickResult settleNow() {
        return scheduler.runNow(this::settleOnce);
    }

    private void indexOnce() {
        VaultIndexer.PollResult result = indexer.poll();
        if (result.credited() + result.debited() + result.rejected() > 0) {
            log.info("indexed blocks {}..{}: {} deposits credited, {} escapes debited, {} rejected",
                    result.fromBlock(), result.toBlock(), result.credited(), result.debited(), result.rejected());
        }
        forcedWithdrawals.poll();
    }

    private TickResult settleOnce() {
        TickResult result = submitter.tick();
        for (int ticks = 1; ticks < MAX_TICKS_PER_TURN && result.outcome() == TickResult.Outcome.CONFIRMED; ticks++) {
            result = submitter.tick();
        }
        return result;
    }

    private void expireOnce() {
        for (int round = 0; round < MAX_EXPIRE_ROUNDS_PER_TURN; round++) {
            if (ledger.expirePending() < maxGroupSize) {
                return;
            }
        }
    }

    /** Reconciles unless a batch was sent and not yet confirmed (a BUILT one is not on chain yet). */
    private void reconcileIfIdle() {
        ReconciliationReport report = reconcileUnlessInFlight();
        if (report.isSkipped()) {
            log.debug("reconciliation skipped: batch {} is in flight", report.inFlightBatch().getAsLong());
        }
    }

    private ReconciliationReport reconcileUnlessInFlight() {
        ReconciliationReport report = ReconcileGuard.run(
                () -> store.openBatches().stream().filter(batch -> batch.state() == BatchState.SUBMITTED)
                        .mapToLong(batch -> batch.batchId()).findFirst(),
                () -> List.of(store.lastBatchId(), store.openBatches().stream()
                        .map(batch -> batch.batchId() + ":" + batch.state()).toList()),
                this::reconcileNow, clock);
        if (!report.isSkipped()) {
            lastReconciliation.set(report);
        }
        return report;
    }

    private ReconciliationReport reconcileNow() {
        List<Address> tokens = ledger.tokens().stream().map(Token::address).toList();
        ReconciliationReport report = reconciler.reconcile(tokens);
        lastVaultHealth.set(healthCheck.check(tokens));
        return report;
    }

    /**
     * Stops the schedule (the step in progress finishes), then the ledger, the chain connection and
     * the database if this batcher started it (never a pool the service passed in).
     */
    @Override
    public void close() {
        try (database; client; ledger) {
            scheduler.close();
        }
    }
}
