package dev.agentescrow.batcher.runtime;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.SignerLane;
import dev.agentescrow.batcher.chain.SignerLanes;
import dev.agentescrow.batcher.command.AgentCommands;
import dev.agentescrow.batcher.command.ServiceCommands;
import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.WriteFence;
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
import dev.agentescrow.batcher.ledger.db.Migrations;
import dev.agentescrow.batcher.leadership.LeaderElection;
import dev.agentescrow.batcher.leadership.LeaderInfo;
import dev.agentescrow.batcher.leadership.LeadershipConfig;
import dev.agentescrow.batcher.leadership.LeadershipListener;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.read.FeedReads;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.reconcile.ExpectedBalances;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.reconcile.VaultHealthCheck;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.BatchSubmitter;
import dev.agentescrow.batcher.settlement.BatchTrigger;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.SettlementChain;
import dev.agentescrow.batcher.settlement.SettlementMetrics;
import dev.agentescrow.batcher.settlement.TickResult;
import dev.agentescrow.batcher.settlement.SingleSubmitterLock;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.vault.ForcedWithdrawalRequest;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 *       batch is in flight (sent, not yet confirmed: it would show as mismatches until it confirms), and
 *       discarded as skipped (neither logged nor counted as a mismatch) if a batch changed state or the
 *       indexer's checkpoint moved while it ran; custody events on chain up to the block its balance
 *       reads are pinned to that are not final in the ledger yet (deposits waiting for their
 *       confirmations or held until their depth) count as expected
 *       ({@link VaultIndexer#unbookedCustody(dev.agentescrow.chain.Address, long)}); then the {@link VaultHealthCheck} (frozen vault,
 *       a token balance that moved without an event), see {@link #vaultHealth()}.</li>
 * </ul>
 * One process per database leads ({@link LeaderElection}): it runs the ledger writer and every step
 * above, under a fencing epoch. Any other batcher on the database stands by, serves nothing that
 * needs the writer ({@link NotLeaderException}), and takes over when the leader's lock session ends
 * ({@link #role()}, {@link #addLeadershipListener}, {@link #leader()}; docs/batcher.md, "Leadership").
 *
 * <p>Start fails, with everything it started stopped again, when the database cannot be reached,
 * or when this process is elected at once and its term cannot start (the node cannot be reached).
 */
public final class Batcher implements AutoCloseable {
    /** The operator's ETH below which {@code settlement.operator.balance.low} is raised: 0.05 ETH. */
    static final java.math.BigInteger LOW_OPERATOR_BALANCE_WEI = new java.math.BigInteger("50000000000000000");

    private static final Logger log = LoggerFactory.getLogger(Batcher.class);
    static final int MAX_TICKS_PER_TURN = 32;
    private static final int MAX_EXPIRE_ROUNDS_PER_TURN = 64;

    /** The lane of the reconciler: its RPC reads never delay index or settle (F6). */
    static final String RECONCILE_LANE = "reconcile";

    private final BatcherConfig config;
    private final Credentials operator;
    private final Clock clock;
    private final MeterRegistry registry;
    private final AtomicReference<ReconciliationReport> lastReconciliation = new AtomicReference<>();
    private final AtomicReference<VaultHealthCheck.VaultHealth> lastVaultHealth = new AtomicReference<>();
    /** The database this batcher started, closed with it; null on a pool the service owns. */
    private final Database ownedDatabase;
    private final DataSource dataSource;
    private final LedgerReads reads;
    private final FeedReads feedReads;
    private LeaderElection<Term> election;
    /** While set, the scheduled {@code settle} step does nothing ({@link #pauseSettlement}). */
    private volatile boolean settlementPaused;
    /** Keys of the signer lanes added with {@link #signerLane}, by kind: every term builds its lanes from them. */
    private final java.util.Map<String, Credentials> extraLanes = new java.util.LinkedHashMap<>();

    private Batcher(Database ownedDatabase, DataSource dataSource, BatcherConfig config, Credentials operator,
                    Clock clock, MeterRegistry registry) {
        this.ownedDatabase = ownedDatabase;
        this.dataSource = dataSource;
        this.reads = new LedgerReads(dataSource);
        this.feedReads = new FeedReads(dataSource);
        this.config = config;
        this.operator = operator;
        this.clock = clock;
        this.registry = registry;
    }

    /** As {@link #start(BatcherConfig, LeadershipConfig, Credentials, Clock, MeterRegistry)} with {@link LeadershipConfig#defaults()}. */
    public static Batcher start(BatcherConfig config, Credentials operator, Clock clock, MeterRegistry registry) {
        return start(config, LeadershipConfig.defaults(), operator, clock, registry);
    }

    /**
     * Starts the database (migrating the schema) and the leader election. On a database nobody
     * leads, this process is elected before this returns: the ledger, the chain connection and the
     * schedule run. Otherwise it returns as a standby and takes over when the leader's lock session
     * ends. Whatever started is stopped again if a part fails.
     *
     * @param leadership this process's id and forwarding address, and the election's timings
     * @param operator the key holding the vault's operator role; it signs settlement batches and
     *     nothing else: the {@value SignerLane#SETTLEMENT} lane. Every other kind of transaction
     *     (the watchtower's, the arbiter's) signs with credentials of its own, through
     *     {@link #signerLane}, so that a stuck batch never delays it
     */
    public static Batcher start(BatcherConfig config, LeadershipConfig leadership, Credentials operator, Clock clock,
                                MeterRegistry registry) {
        Objects.requireNonNull(config, "config");
        Database database = Database.start(config.database());
        try {
            return start(database.dataSource(), database, config, LedgerConfig.defaults(config.database()), leadership,
                    operator, clock, registry);
        } catch (RuntimeException e) {
            try {
                database.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** As {@link #start(DataSource, BatcherConfig, LedgerConfig, LeadershipConfig, Credentials, Clock, MeterRegistry)} with {@link LeadershipConfig#defaults()}. */
    public static Batcher start(DataSource dataSource, BatcherConfig config, LedgerConfig ledgerConfig,
                                Credentials operator, Clock clock, MeterRegistry registry) {
        return start(dataSource, config, ledgerConfig, LeadershipConfig.defaults(), operator, clock, registry);
    }

    /**
     * Starts the batcher on the service's own pool: the service owns {@code dataSource} and closes
     * it after {@link #close()}, which never does; {@code config.database()} is not used. The
     * ledger runs with {@code ledgerConfig} (the service's settings), settlement batches are signed
     * with {@code operator} (the key from the service's configuration). The pool needs room for the
     * election's lock session, the ledger writer's connection and the reads. Reads
     * ({@link #reads()}) work on every instance; what needs the writer works on the leader only.
     */
    public static Batcher start(DataSource dataSource, BatcherConfig config, LedgerConfig ledgerConfig,
                                LeadershipConfig leadership, Credentials operator, Clock clock,
                                MeterRegistry registry) {
        return start(Objects.requireNonNull(dataSource, "dataSource"), null, config, ledgerConfig, leadership,
                operator, clock, registry);
    }

    private static Batcher start(DataSource dataSource, Database ownedDatabase, BatcherConfig config,
                                 LedgerConfig ledgerConfig, LeadershipConfig leadership, Credentials operator,
                                 Clock clock, MeterRegistry registry) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(ledgerConfig, "ledgerConfig");
        Objects.requireNonNull(leadership, "leadership");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(registry, "registry");
        Migrations.migrate(dataSource);
        Batcher batcher = new Batcher(ownedDatabase, dataSource, config, operator, clock, registry);
        batcher.election = LeaderElection.start(dataSource, ledgerConfig.advisoryLockKey(), leadership,
                (epoch, fence) -> batcher.startTerm(ledgerConfig, epoch, fence), clock, registry);
        log.info("batcher started as {} (node {})", batcher.role(), leadership.nodeId());
        return batcher;
    }

    /**
     * Starts what the leader runs, for {@code epoch}: the ledger writer, the chain connection, the
     * indexers, the submitter, the reconciler and their schedule, every write of them under
     * {@code fence}. Whatever started is stopped again if a later part fails.
     */
    private Term startTerm(LedgerConfig ledgerConfig, long epoch, WriteFence fence) {
        List<AutoCloseable> started = new ArrayList<>();
        try {
            Ledger ledger = Ledger.start(dataSource, ledgerConfig, clock, new LedgerMetrics(registry), fence);
            started.add(ledger);
            ChainClient client = ChainClient.connect(config.chain());
            started.add(client);

            SettlementVaultGateway vault = new SettlementVaultGateway(client, config.vault());
            VaultIndexer indexer = new VaultIndexer(client, vault, new ResilientRpc("indexer", config.rpc()),
                    new PostgresCheckpointStore(dataSource, clock, fence), new LedgerVaultEventSink(ledger),
                    new IndexerSettings(config.confirmations(), config.depositConfirmationDepth(),
                            config.vaultDeploymentBlock(), config.maxBlocksPerPoll()));
            PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger,
                    config.systemAccounts(), clock, fence);
            SignerLanes lanes = signerLanesFor(client);
            SettlementChain chain = new SettlementChain(client, vault, lanes.lane(SignerLane.SETTLEMENT).signer(),
                    new ResilientRpc("submitter", config.rpc()));
            TermLock submitterLock = new TermLock();
            BatchSubmitter submitter = new BatchSubmitter(chain, store, store, submitterLock,
                    new BatchTrigger(config.transfersPerBatch(), config.maxBatchDelay(), clock),
                    config.batchLimits(), new SettlementMetrics(registry)
                            .withLowBalanceAlarm(LOW_OPERATOR_BALANCE_WEI),
                    config.batchConfirmationDepth(), new ForcedWithdrawalServing(vault, new ResilientRpc("forced-serving",
                            config.rpc())), config.fees());
            Reconciler reconciler = new Reconciler(client, vault, new ResilientRpc("reconciler", config.rpc()),
                    new LedgerExpectedBalances(dataSource).plus(unbookedCustody(indexer)),
                    config.vaultDeploymentBlock(), clock, registry);

            ForcedWithdrawalIndexer forcedWithdrawals = new ForcedWithdrawalIndexer(client, vault,
                    new ResilientRpc("forced-withdrawals", config.rpc()), ledger,
                    new IndexerSettings(config.confirmations(), config.depositConfirmationDepth(),
                            config.vaultDeploymentBlock(), config.maxBlocksPerPoll()), registry);
            VaultHealthCheck healthCheck = new VaultHealthCheck(client, vault,
                    new ResilientRpc("vault-health", config.rpc()), clock, registry);
            Term term = new Term(ledger, client, indexer, store, submitter, reconciler, ledgerConfig.maxGroupSize(),
                    forcedWithdrawals, healthCheck, submitterLock, lanes,
                    new AgentCommands(ledger, reads), new ServiceCommands(ledger, reads));
            BatcherConfig.Schedule schedule = config.schedule();
            term.scheduler = BatcherScheduler.start(List.of(
                    new BatcherScheduler.Step("index", schedule.index(), term::indexOnce),
                    new BatcherScheduler.Step("settle", schedule.settle(), () -> {
                        if (!settlementPaused) {
                            term.settleOnce();
                        }
                    }),
                    new BatcherScheduler.Step("expire", schedule.expire(), term::expireOnce),
                    new BatcherScheduler.Step("reconcile", schedule.reconcile(), term::reconcileIfIdle,
                            RECONCILE_LANE)),
                    registry);
            log.info("leading with epoch {}: vault {}, operator {}, trigger N={} T={}", epoch, config.vault(),
                    chain.operator().address(), config.transfersPerBatch(), config.maxBatchDelay());
            return term;
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

    // ------------------------------------------------------------------ leadership and lanes

    /**
     * A signer lane for another kind of transaction (e.g. {@code "watchtower"}), on the leader's
     * chain connection, with {@code key}: its own nonce sequence, never the settlement key's. The
     * key is kept: every later term (after a takeover by this process) has the lane too. On the
     * leader only.
     *
     * @throws IllegalArgumentException if {@code kind} has a lane, or {@code key} is the key of
     *     another lane (settlement's included)
     */
    public SignerLane signerLane(String kind, Credentials key) {
        Term term = term("signer lanes");
        synchronized (extraLanes) {
            SignerLane lane = new SignerLane(kind, term.client.signer(key));
            term.lanes.updateAndGet(current -> current.with(lane));
            extraLanes.put(kind, key);
            return lane;
        }
    }

    /** Every signer lane of the current term: settlement's and those added with {@link #signerLane}. On the leader only. */
    public SignerLanes signerLanes() {
        return term("signer lanes").lanes.get();
    }

    private SignerLanes signerLanesFor(ChainClient client) {
        synchronized (extraLanes) {
            SignerLanes lanes = SignerLanes.of(new SignerLane(SignerLane.SETTLEMENT, client.signer(operator)));
            for (java.util.Map.Entry<String, Credentials> extra : extraLanes.entrySet()) {
                lanes = lanes.with(new SignerLane(extra.getKey(), client.signer(extra.getValue())));
            }
            return lanes;
        }
    }

    /** LEADER while this process runs the writer and the steps; STANDBY while another process does. */
    public Role role() {
        return election.role();
    }

    /** The epoch this process was last elected with (0 if it never led). */
    public long epoch() {
        return election.epoch();
    }

    /** Tells {@code listener} the current role now and every change of it afterwards (on a thread of its own). */
    public void addLeadershipListener(LeadershipListener listener) {
        election.addListener(listener);
    }

    /** Who leads the database (epoch, id, forwarding address), as the {@code leadership} row says; any instance reads it. */
    public Optional<LeaderInfo> leader() {
        return LeaderElection.current(dataSource);
    }

    private Term term(String what) {
        return election.term().orElseThrow(() -> new NotLeaderException(what));
    }

    // ------------------------------------------------------------------ the leader's services

    /** Reads of balances, transfers, history, holds, withdrawals, batches and totals: on every instance, leader or standby. */
    public LedgerReads reads() {
        return reads;
    }

    /** Feeds of credited deposits and confirmed batches for cursor-keeping consumers; works on every instance. */
    public FeedReads feedReads() {
        return feedReads;
    }

    /** The agents' command layer: the only one a client request may reach (on the leader only). */
    public AgentCommands agentCommands() {
        return term("agent commands").agentCommands;
    }

    /** Rule-driven movements with an audit row each: never reachable from a client request (on the leader only). */
    public ServiceCommands serviceCommands() {
        return term("service commands").serviceCommands;
    }

    /** The ledger: transfers, holds, withdrawals, balances (on the leader only). */
    public Ledger ledger() {
        return term("the ledger").ledger;
    }

    /** The inclusion proof of a settled movement, once its batch is confirmed (on the leader only). */
    public Optional<InclusionProof> proof(TransferId transferId) {
        return term("settlement").submitter.proof(transferId);
    }

    /** Blocks a batch's receipt must be deep before it is confirmed, as configured (F8). */
    public int batchConfirmationDepth() {
        return config.batchConfirmationDepth();
    }

    /** The report of the last reconciliation (scheduled or on demand), if any ran. */
    public Optional<ReconciliationReport> lastReconciliation() {
        return Optional.ofNullable(lastReconciliation.get());
    }

    /** The vault's state at the last reconciliation step (frozen? token balances moved without an event?), if any ran. */
    public Optional<VaultHealthCheck.VaultHealth> vaultHealth() {
        return Optional.ofNullable(lastVaultHealth.get());
    }

    /** The forced withdrawals the vault still has open, as the last index step saw them (on the leader only). */
    public List<ForcedWithdrawalRequest> openForcedWithdrawals() {
        Term term = term("the forced-withdrawal indexer");
        return term.scheduler.runNow(term.forcedWithdrawals::openRequests);
    }

    /**
     * Reconciles every registered token now, on the reconciler's own thread (between its scheduled
     * runs, beside settlement), and returns the report. While a batch is SUBMITTED, or if one
     * changes state during the run, nothing is judged: the report is
     * {@link ReconciliationReport#isSkipped() skipped} and names the batch in flight (F6). On the leader only.
     */
    public ReconciliationReport reconcile() {
        Term term = term("the reconciler");
        return term.scheduler.runNow(RECONCILE_LANE, term::reconcileUnlessInFlight);
    }

    /** Runs one submitter turn now, between steps, and returns its last tick (for operations and tests; on the leader only). */
    public TickResult settleNow() {
        Term term = term("settlement");
        return term.scheduler.runNow(term::settleOnce);
    }

    /**
     * Pauses or resumes the scheduled {@code settle} step (for operations and diagnosis: the
     * benchmark compares latencies with settlement paused and running). A pause returns once the
     * turn in progress, if any, has finished, so no tick runs after it; a tick is atomic on its
     * own, so a pause between ticks is what a slow scheduler would do: a batch in flight stays as
     * stored and the next tick after the resume carries on. {@link #settleNow} still runs. On the
     * leader only; the pause is the batcher's, so it holds across a change of term.
     */
    public void pauseSettlement(boolean paused) {
        settlementPaused = paused;
        if (paused) {
            Term term = term("settlement");
            term.scheduler.runNow(() -> null);
        }
    }

    /** Whether the scheduled {@code settle} step is paused ({@link #pauseSettlement}). */
    public boolean isSettlementPaused() {
        return settlementPaused;
    }

    /**
     * What runs while this process leads, built on takeover with the term's fence and closed when
     * it steps down: the schedule stops (the step in progress finishes), then the ledger writer and
     * the chain connection.
     */
    private final class Term implements LeaderElection.Term {
        private final Ledger ledger;
        private final ChainClient client;
        private final PostgresSettlementStore store;
        private final BatchSubmitter submitter;
        private final Reconciler reconciler;
        private final VaultIndexer indexer;
        private final int maxGroupSize;
        private final ForcedWithdrawalIndexer forcedWithdrawals;
        private final VaultHealthCheck healthCheck;
        private final TermLock submitterLock;
        private final AtomicReference<SignerLanes> lanes;
        private final AgentCommands agentCommands;
        private final ServiceCommands serviceCommands;
        private BatcherScheduler scheduler;

        private Term(Ledger ledger, ChainClient client, VaultIndexer indexer, PostgresSettlementStore store,
                     BatchSubmitter submitter, Reconciler reconciler, int maxGroupSize,
                     ForcedWithdrawalIndexer forcedWithdrawals, VaultHealthCheck healthCheck, TermLock submitterLock,
                     SignerLanes lanes, AgentCommands agentCommands, ServiceCommands serviceCommands) {
            this.submitterLock = submitterLock;
            this.agentCommands = agentCommands;
            this.serviceCommands = serviceCommands;
            this.lanes = new AtomicReference<>(lanes);
            this.ledger = ledger;
            this.client = client;
            this.indexer = indexer;
            this.store = store;
            this.submitter = submitter;
            this.reconciler = reconciler;
            this.maxGroupSize = maxGroupSize;
            this.forcedWithdrawals = forcedWithdrawals;
            this.healthCheck = healthCheck;
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
            for (int ticks = 1; ticks < MAX_TICKS_PER_TURN && result.outcome() == TickResult.Outcome.CONFIRMED;
                 ticks++) {
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
            // The run only reads; its result is counted and logged once the guard has kept it (a
            // run across a batch's change of state saw the batch half-applied: no mismatch).
            ReconciliationReport report = reconciler.record(ReconcileGuard.run(
                    () -> store.openBatches().stream().filter(batch -> batch.state() == BatchState.SUBMITTED)
                            .mapToLong(batch -> batch.batchId()).findFirst(),
                    () -> List.of(store.lastBatchId(), store.openBatches().stream()
                            .map(batch -> batch.batchId() + ":" + batch.state()).toList(), indexer.checkpointBlock()),
                    this::checkNow, clock));
            if (!report.isSkipped()) {
                lastReconciliation.set(report);
            }
            return report;
        }

        private ReconciliationReport checkNow() {
            List<Address> tokens = ledger.tokens().stream().map(Token::address).toList();
            ReconciliationReport report = reconciler.check(tokens);
            lastVaultHealth.set(healthCheck.check(tokens));
            return report;
        }

        @Override
        public void close() {
            submitterLock.closed = true;
            try (client; ledger) {
                scheduler.close();
            }
        }
    }

    /**
     * The submitter's lock within a term: the leadership itself. Only the leader runs a submitter,
     * and every settlement state change commits under the term's epoch fence (a signed transaction
     * is stored before it is broadcast, so a deposed submitter can sign nothing new). A separate
     * session lock would outlive a half-open leader on the server and keep the next leader from
     * settling, so there is none. Held while the term runs.
     */
    /**
     * The custody events on chain that the ledger does not hold as final yet, as expectations the
     * reconciler adds to the ledger's: up to the block its balance reads are pinned to.
     */
    private static ExpectedBalances unbookedCustody(VaultIndexer indexer) {
        return new ExpectedBalances() {
            @Override
            public Map<Address, BigInteger> expectedSettled(Address token) {
                return indexer.unbookedCustody(token);
            }

            @Override
            public Map<Address, BigInteger> expectedSettled(Address token, long atBlock) {
                return indexer.unbookedCustody(token, atBlock);
            }
        };
    }

    private static final class TermLock implements SingleSubmitterLock {
        private volatile boolean closed;

        @Override
        public boolean tryAcquire() {
            return !closed;
        }

        @Override
        public void release() {
            // Nothing to give back: the term holds the lock until it closes.
        }
    }

    /**
     * Steps down if leading (the schedule stops, then the ledger and the chain connection; the lock
     * is given back), then stops the database if this batcher started it (never a pool the service
     * passed in).
     */
    @Override
    public void close() {
        try (ownedDatabase) {
            election.close();
        }
    }
}
