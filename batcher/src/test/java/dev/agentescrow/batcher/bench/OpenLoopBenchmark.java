package dev.agentescrow.batcher.bench;

import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.runtime.BatcherConfig;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployer;
import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.local.HardhatNode;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The ledger under open-loop load, as a service sees it (issue 11, benchmark): transfers between
 * {@code agents} agent accounts arrive at a fixed rate, each with a random id, and each one's
 * latency counts from its <em>scheduled</em> send time, so a stalled writer shows in the tail
 * instead of slowing the senders down (no coordinated omission). In the same run the whole
 * batcher runs on a local Hardhat node that mines a block every 2 s ({@code evm_setIntervalMining}):
 * the indexer, and settlement of every transfer in netted batches; and {@code readers} reader
 * threads each read {@code readsPerSecond} balances or history pages per second through
 * {@link LedgerReads}, open-loop as well.
 *
 * <p>The rate is the highest the ledger sustains with p99 at most {@code p99TargetMs}, found by
 * short probes (doubling from {@code firstRate}, then bisecting); then one run of {@code runTime}
 * at that rate measures throughput, latency, read latency and the settlement backlog (transfers
 * committed and not yet in a batch) every second.
 *
 * <p>The agents are registered in the vault during setup (settlement would otherwise register
 * them, 256 per transaction, during the run). They are funded the way settlement allows: one treasury (a dev account) deposits into
 * the vault, and ledger transfers move its deposit to the agents; those transfers settle like any
 * other, so the agents' settled balances on chain follow.
 */
final class OpenLoopBenchmark {
    private static final int ADMIN = 0;
    private static final int OPERATOR = 1;
    private static final int TREASURY = 2;
    private static final int FEE_COLLECTOR = 3;
    private static final int ESCROW_HOLDER = 4;
    private static final long AGENT_FUNDS = 1_000_000_000L;
    private static final int HISTORY_PAGE = 20;
    private static final int REGISTER_PER_CALL = 64;
    /** Transfers in flight beyond which a probe stops: the ledger is not keeping up. */
    private static final int MAX_IN_FLIGHT = 200_000;
    /** The lowest rate the search probes. */
    private static final int MIN_RATE = 62;

    private OpenLoopBenchmark() {
    }

    /**
     * @param agents agent accounts that pay each other
     * @param runTime the measured run at the rate found
     * @param probeTime each probe of the rate search
     * @param firstRate the first rate probed (transfers per second)
     * @param maxRate the highest rate probed
     * @param bisections probes between the last sustained rate and the first that was not
     * @param readers reader threads
     * @param readsPerSecond reads per second of each reader
     * @param readThreads the threads that make the readers' reads (each reader dispatches its
     *     reads onto them at their scheduled times)
     * @param blockIntervalMillis Hardhat's interval mining
     * @param p99TargetMs the latency a sustained rate keeps at p99
     */
    record Config(int agents, Duration runTime, Duration probeTime, int firstRate, int maxRate, int bisections,
                  int readers, int readsPerSecond, int readThreads, long blockIntervalMillis, double p99TargetMs) {
        static Config of(int runSeconds) {
            int probeSeconds = Math.max(2, Math.min(4, runSeconds / 10));
            return new Config(1_000, Duration.ofSeconds(runSeconds), Duration.ofSeconds(probeSeconds), 1_000,
                    64_000, runSeconds >= 30 ? 4 : 1, 4, 500,
                    Integer.getInteger("bench.readThreads", 8), 2_000, 50.0);
        }
    }

    /** One probe or run at a fixed rate. */
    /**
     * @param latenciesNanos the latencies of the transfers that ended
     * @param bySchedule     every sent transfer's latency in the order of its scheduled time (0: it never ended)
     */
    /**
     * {@code -Dbench.judge=clearOfDiskStalls}: the search judges a probe by the p99 of its
     * transfers clear of the disk's stalls instead of all of them (see {@link #probe}).
     */
    static final boolean JUDGE_CLEAR_OF_DISK_STALLS = "clearOfDiskStalls".equals(System.getProperty("bench.judge"));

    record Load(int rate, long sent, long ok, long failed, double seconds, long[] latenciesNanos, boolean overrun,
                long[] bySchedule) {
        double tps() {
            return ok / seconds;
        }

        double percentileMs(double p) {
            return LedgerBenchmark.percentileMs(latenciesNanos, p);
        }

        boolean sustained(double p99TargetMs) {
            return !overrun && failed == 0 && ok >= 0.97 * sent && tps() >= 0.95 * rate
                    && percentileMs(0.99) <= p99TargetMs;
        }
    }

    record Result(int rate, Load run, List<Load> probes, long reads, double readP50Ms, double readP99Ms,
                  double readServiceP99Ms,
                  long[] backlogPerSecond, long batches, long walBytes, long checkpointsRequested,
                  long checkpointsTimed, SettlementAb settlementAb, List<GcPauses.Pause> gcPauses,
                  DiskProbe.Report disk) {
        long backlogAt(int second) {
            return backlogPerSecond.length == 0 ? 0
                    : backlogPerSecond[Math.min(second, backlogPerSecond.length) - 1];
        }

        long backlogMax() {
            return Arrays.stream(backlogPerSecond).max().orElse(0);
        }

        long backlogEnd() {
            return backlogPerSecond.length == 0 ? 0 : backlogPerSecond[backlogPerSecond.length - 1];
        }
    }

    /**
     * Probes at one rate with settlement paused and running, alternately ({@code pairs} of each),
     * in the same run: the transfer p99 and the read p99 of each probe. The difference is what
     * settlement costs the tail.
     */
    record SettlementAb(int rate, List<Load> paused, List<Load> running, List<Double> readP99Paused,
                        List<Double> readP99Running) {
        /** With the read p99 of each probe, in the order probed (running, paused, running, ...). */
        SettlementAb withReads(List<Double> readP99ByProbe) {
            List<Double> readPaused = new ArrayList<>();
            List<Double> readRunning = new ArrayList<>();
            for (int i = 0; i < readP99ByProbe.size(); i++) {
                (i % 2 == 1 ? readPaused : readRunning).add(readP99ByProbe.get(i));
            }
            return new SettlementAb(rate, paused, running, readPaused, readRunning);
        }

        static double median(List<Double> values) {
            if (values.isEmpty()) {
                return 0;
            }
            double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        }

        double p99Paused() {
            return median(paused.stream().map(l -> l.percentileMs(0.99)).toList());
        }

        double p99Running() {
            return median(running.stream().map(l -> l.percentileMs(0.99)).toList());
        }

        double readP99PausedMedian() {
            return median(readP99Paused);
        }

        double readP99RunningMedian() {
            return median(readP99Running);
        }
    }

    static Result run(Path contractsDir, Path dataDir, Config config) throws Exception {
        try (HardhatNode node = HardhatNode.start(contractsDir);
             ChainClient client = ChainClient.connect(ChainSettings.local(node.rpcUrl()))) {
            Signer admin = client.signer(DevAccounts.account(ADMIN));
            Signer operator = client.signer(DevAccounts.account(OPERATOR));
            long deploymentBlock = client.blockNumber() + 1;
            Deployment deployment = Deployer.deployWithTestToken(client, admin, new Deployer.Plan(admin.address(),
                    operator.address(), admin.address(), BasisPoints.of(0), Duration.ofDays(7)));
            Erc20Token token = deployment.token(client);
            SettlementVaultGateway vault = deployment.vault(client);
            Address usd = token.address();
            SettlementAddresses system = new SettlementAddresses(Address.of(DevAccounts.account(FEE_COLLECTOR).getAddress()),
                    Address.of(DevAccounts.account(ESCROW_HOLDER).getAddress()));

            List<Address> agentAddresses = new ArrayList<>();
            for (int i = 0; i < config.agents(); i++) {
                agentAddresses.add(Address.of(String.format(Locale.ROOT, "0x%040x", 0xA6E00000L + i)));
            }
            // Setup, not measured: the agents get their vault ids now (about 47,000 gas each, so
            // 64 per call), so that settlement does not spend the run registering 1,000 accounts.
            for (int from = 0; from < agentAddresses.size(); from += REGISTER_PER_CALL) {
                vault.registerAccounts(operator, agentAddresses.subList(from,
                        Math.min(agentAddresses.size(), from + REGISTER_PER_CALL)));
            }
            DatabaseConfig databaseConfig = DatabaseConfig.embedded(dataDir).withPoolSize(16);
            if (Boolean.getBoolean("bench.pgServerDefaults")) {
                // Compare the embedded defaults (DatabaseConfig.EMBEDDED_DEFAULTS) with PostgreSQL's own.
                databaseConfig = databaseConfig.withEmbeddedSettings(java.util.Map.of());
            }
            try (Database database = Database.start(databaseConfig)) {
                BatcherConfig batcherConfig = BatcherConfig.defaults(databaseConfig,
                                ChainSettings.local(node.rpcUrl()), vault.address(), deploymentBlock, system)
                        .withConfirmations(0)
                        .withTrigger(100_000, Duration.ofSeconds(2))
                        .withSchedule(new BatcherConfig.Schedule(Duration.ofMillis(500), Duration.ofMillis(200),
                                Duration.ofSeconds(1), Duration.ofMinutes(10)));
                LedgerConfig ledgerConfig = LedgerConfig.defaults(databaseConfig);
                try (Batcher batcher = Batcher.start(database.dataSource(), batcherConfig, ledgerConfig,
                        DevAccounts.account(OPERATOR), Clock.systemUTC(), new SimpleMeterRegistry())) {
                    Ledger ledger = batcher.ledger();
                    LedgerReads reads = batcher.reads();
                    ledger.registerToken(new Token(usd, "USDC", Deployer.TEST_TOKEN_DECIMALS), "bench",
                            "benchmark token");
                    List<AccountKey> agents = fund(client, admin, token, vault, ledger, reads, usd, agentAddresses);
                    // From here on a block every 2 s, as on a real chain.
                    client.rawRequest("evm_setAutomine", List.of(false));
                    client.rawRequest("evm_setIntervalMining", List.of(config.blockIntervalMillis()));
                    return measure(database, databaseConfig, batcher, ledger, reads, agents, config, dataDir);
                }
            }
        }
    }

    /** The treasury deposits on chain; ledger transfers give each agent its funds (settled like the rest). */
    private static List<AccountKey> fund(ChainClient client, Signer admin, Erc20Token token,
            SettlementVaultGateway vault, Ledger ledger, LedgerReads reads, Address usd, List<Address> agentAddresses) {
        Signer treasury = client.signer(DevAccounts.account(TREASURY));
        Amount total = Amount.of(BigInteger.valueOf(AGENT_FUNDS).multiply(BigInteger.valueOf(agentAddresses.size())));
        token.mint(admin, treasury.address(), total);
        vault.deposit(treasury, usd, total);
        AccountKey treasuryKey = AccountKey.user(treasury.address(), usd);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (reads.account(treasuryKey).get().map(AccountView::posted).filter(total.baseUnits()::equals).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the treasury's deposit was not credited within 60 s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        List<AccountKey> agents = new ArrayList<>();
        List<TransferRequest> funding = new ArrayList<>();
        for (Address address : agentAddresses) {
            AccountKey agent = AccountKey.user(address, usd);
            agents.add(agent);
            funding.add(TransferRequest.single(randomId(), treasuryKey, agent, Amount.of(AGENT_FUNDS)));
            if (funding.size() == ledger.config().maxSubmissionSize()) {
                expectOk(ledger.submit(funding));
                funding.clear();
            }
        }
        expectOk(ledger.submit(funding));
        return agents;
    }

    private static void expectOk(List<TransferResult> results) {
        for (TransferResult result : results) {
            if (result != TransferResult.OK) {
                throw new IllegalStateException("funding transfer: " + result);
            }
        }
    }

    /**
     * The reads of one reader: when each was scheduled, its latency (from the scheduled time: it
     * includes any wait for a free read thread) and its service time (from the call to the answer:
     * the read's own time). Reads complete out of order on the read pool; each takes its own slot,
     * and the log is read only once the pool has finished.
     */
    private static final class ReadLog {
        final long[] scheduled;
        final long[] latency;
        final long[] service;
        final AtomicInteger slots = new AtomicInteger();
        volatile int count;

        ReadLog(int capacity) {
            scheduled = new long[capacity];
            latency = new long[capacity];
            service = new long[capacity];
        }

        int slot() {
            return slots.getAndIncrement();
        }

        void add(int slot, long at, long nanos, long serviceNanos) {
            if (slot < scheduled.length) {
                scheduled[slot] = at;
                latency[slot] = nanos;
                service[slot] = serviceNanos;
            }
        }

        /** Once no read is in flight: the slots taken become the reads counted. */
        void seal() {
            count = Math.min(scheduled.length, slots.get());
        }
    }

    /** The latencies of the reads scheduled in [from, to). */
    private static long[] reads(List<ReadLog> logs, long from, long to) {
        return reads(logs, from, to, false);
    }

    /** The latencies, or the service times, of the reads scheduled in [from, to). */
    private static long[] reads(List<ReadLog> logs, long from, long to, boolean service) {
        long[] all = new long[logs.stream().mapToInt(l -> l.count).sum()];
        int at = 0;
        for (ReadLog log : logs) {
            int n = log.count;
            for (int i = 0; i < n; i++) {
                if (log.latency[i] > 0 && log.scheduled[i] - from >= 0 && log.scheduled[i] - to < 0) {
                    all[at++] = service ? log.service[i] : log.latency[i];
                }
            }
        }
        return Arrays.copyOf(all, at);
    }

    private static Result measure(Database database, DatabaseConfig databaseConfig, Batcher batcher, Ledger ledger,
            LedgerReads reads, List<AccountKey> agents, Config config, Path dataDir) throws Exception {
        AtomicBoolean readersRun = new AtomicBoolean(true);
        List<ReadLog> readLogs = new ArrayList<>();
        // -Dbench.waits=true (diagnosis): sample pg_stat_activity and the pool's waiting threads every 20 ms.
        WaitSampler waits = Boolean.getBoolean("bench.waits")
                ? WaitSampler.start(database.jdbcUrl(), databaseConfig.user(), databaseConfig.password(),
                database.dataSource(), Long.getLong("bench.waitsIntervalMillis", 20))
                : null;
        try (GcPauses gc = GcPauses.start();
             DiskProbe disk = DiskProbe.start(dataDir);
             ExecutorService readerPool = Executors.newFixedThreadPool(config.readers());
             ExecutorService readPool = Executors.newFixedThreadPool(config.readThreads())) {
            List<Future<?>> readerFutures = new ArrayList<>();
            // Room for every read of the search, the settlement comparison and the run.
            int capacity = (int) (config.readsPerSecond() * (config.runTime().toSeconds() + 400));
            for (int r = 0; r < config.readers(); r++) {
                ReadLog log = new ReadLog(capacity);
                readLogs.add(log);
                readerFutures.add(readerPool.submit(() -> {
                    read(reads, agents, config.readsPerSecond(), readersRun, log, readPool);
                    return null;
                }));
            }
            List<Load> probes = new ArrayList<>();
            // Warm-up, not counted: the first probe of a fresh JVM ran while the JIT compiled the
            // open-loop paths (submitAsync, the reads, settlement) and failed at rates later ones
            // sustained, so the search halved from there.
            phase(waits, "warm-up");
            Load warmUp = load(ledger, agents, config.firstRate(), config.probeTime(), System.nanoTime());
            System.err.printf(Locale.ROOT, "open-loop warm-up %d/s (not counted): p50 %.2f ms, p99 %.2f ms%n",
                    config.firstRate(), warmUp.percentileMs(0.50), warmUp.percentileMs(0.99));
            phase(waits, "search");
            // -Dbench.openLoopRate=N (diagnosis): run at N without the search.
            int fixed = Integer.getInteger("bench.openLoopRate", 0);
            int found = fixed > 0 ? fixed : search(database, ledger, agents, config, probes, disk);
            // With no sustained rate the run goes at the lowest rate probed, and the rate reported is 0.
            int rate = found > 0 ? found : MIN_RATE;
            // Settlement paused against running, at the rate found (-Dbench.settlementPairs=0 skips it).
            List<long[]> abWindows = new ArrayList<>();
            SettlementAb probed = settlementAb(database, batcher, ledger, agents, config, rate, abWindows, waits, gc,
                    Integer.getInteger("bench.settlementPairs", 2));
            phase(waits, "run");
            // Backlog of settlement, sampled every second of the run.
            long seconds = config.runTime().toSeconds();
            long[] backlog = new long[(int) seconds];
            long batchesBefore = batches(database);
            long walBefore = count(database, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn");
            long requestedBefore = count(database, "SELECT num_requested FROM pg_stat_checkpointer");
            long timedBefore = count(database, "SELECT num_timed FROM pg_stat_checkpointer");
            long seqBefore = lastSeq(database);
            try (ExecutorService sampler = Executors.newSingleThreadExecutor()) {
                long start = System.nanoTime();
                Future<?> sampling = sampler.submit(() -> {
                    for (int s = 0; s < seconds; s++) {
                        long at = start + TimeUnit.SECONDS.toNanos(s + 1);
                        parkUntil(at);
                        backlog[s] = backlog(database);
                    }
                    return null;
                });
                Load run = load(ledger, agents, rate, config.runTime(), start);
                System.err.println("open-loop run " + rate + "/s: " + groups(database, seqBefore, lastSeq(database),
                        run.seconds()));
                sampling.get();
                long end = System.nanoTime();
                readersRun.set(false);
                for (Future<?> f : readerFutures) {
                    f.get();
                }
                readPool.shutdown();
                if (!readPool.awaitTermination(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("reads still running 60 s after the run");
                }
                readLogs.forEach(ReadLog::seal);
                long[] readTimes = reads(readLogs, start, end);
                // The reads of the comparison's probes, now that every read scheduled in them was made
                // (a reader that lags its schedule makes them later).
                SettlementAb ab = probed.withReads(abWindows.stream()
                        .map(w -> LedgerBenchmark.percentileMs(reads(readLogs, w[0], w[1]), 0.99)).toList());
                if (Boolean.getBoolean("bench.perSecond")) {
                    StringBuilder line = new StringBuilder("reads per second p99/max ms:");
                    StringBuilder pauses = new StringBuilder("GC pauses per second ms:");
                    for (int s = 0; s < seconds; s++) {
                        long from = start + TimeUnit.SECONDS.toNanos(s);
                        long to = start + TimeUnit.SECONDS.toNanos(s + 1);
                        long[] second = reads(readLogs, from, to);
                        line.append(String.format(Locale.ROOT, " %.0f/%.0f", LedgerBenchmark.percentileMs(second, 0.99),
                                LedgerBenchmark.percentileMs(second, 1.0)));
                        pauses.append(' ').append(GcPauses.totalMillis(gc.between(from, to)));
                    }
                    System.err.println(line + "\n" + pauses + "\nbacklog per second: " + Arrays.toString(backlog));
                }
                if (waits != null) {
                    waits.close();
                    waits.report(12).forEach(System.err::println);
                }
                DiskProbe.Report diskReport = disk.report(start, end, start, rate, run.bySchedule(),
                        config.p99TargetMs());
                return new Result(found, run, probes, readTimes.length, LedgerBenchmark.percentileMs(readTimes, 0.50),
                        LedgerBenchmark.percentileMs(readTimes, 0.99),
                        LedgerBenchmark.percentileMs(reads(readLogs, start, end, true), 0.99), backlog, batches(database) - batchesBefore,
                        count(database, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn") - walBefore,
                        count(database, "SELECT num_requested FROM pg_stat_checkpointer") - requestedBefore,
                        count(database, "SELECT num_timed FROM pg_stat_checkpointer") - timedBefore, ab,
                        gc.between(start, end), diskReport);
            }
        } finally {
            if (waits != null) {
                waits.close();
            }
        }
    }

    private static void phase(WaitSampler waits, String name) {
        if (waits != null) {
            waits.phase(name);
        }
    }

    /**
     * {@code pairs} times: a probe at {@code rate} with settlement running, then one with it paused
     * ({@link Batcher#pauseSettlement}); after each paused probe settlement resumes and the next
     * pair starts once the backlog the pause left is claimed by a batch (at most 20 s), so a
     * running probe sees settlement as it runs in steady state, not a catch-up.
     */
    private static SettlementAb settlementAb(Database database, Batcher batcher, Ledger ledger,
            List<AccountKey> agents, Config config, int rate, List<long[]> windows, WaitSampler waits, GcPauses gc,
            int pairs)
            throws SQLException {
        List<Load> paused = new ArrayList<>();
        List<Load> running = new ArrayList<>();
        for (int pair = 0; pair < pairs; pair++) {
            for (boolean pause : new boolean[] {false, true}) {
                phase(waits, pause ? "settlement paused" : "settlement running");
                batcher.pauseSettlement(pause);
                long from = System.nanoTime();
                Load probe = load(ledger, agents, rate, config.probeTime(), from);
                long to = System.nanoTime();
                List<GcPauses.Pause> pauses = gc.between(from, to);
                System.err.printf(Locale.ROOT, "open-loop %d/s, settlement %s: %.0f tps, p50 %.2f ms, p99 %.2f ms;"
                                + " %d GC pauses, %d ms in all, longest %d ms%n", rate,
                        pause ? "paused" : "running", probe.tps(), probe.percentileMs(0.50), probe.percentileMs(0.99),
                        pauses.size(), GcPauses.totalMillis(pauses), GcPauses.maxMillis(pauses));
                (pause ? paused : running).add(probe);
                windows.add(new long[] {from, to});
            }
            phase(waits, "catch-up");
            batcher.pauseSettlement(false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (backlog(database) > rate && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
        }
        batcher.pauseSettlement(false);
        return new SettlementAb(rate, paused, running, List.of(), List.of());
    }

    /**
     * Doubles the rate from {@code firstRate} while sustained (or halves it until one is), then
     * bisects; returns the highest rate a probe sustained, 0 if none.
     */
    private static int search(Database database, Ledger ledger, List<AccountKey> agents, Config config, List<Load> probes,
            DiskProbe disk) {
        int good = 0;
        int bad = 0;
        for (int rate = config.firstRate(); rate <= config.maxRate(); rate *= 2) {
            if (!sustained(database, ledger, agents, rate, config, probes, disk)) {
                bad = rate;
                break;
            }
            good = rate;
        }
        if (good == 0) {
            // Not even the first rate: halve until a probe is sustained (the rate reported is one
            // that a probe sustained, never an untried floor; 0 if none down to MIN_RATE was).
            for (int rate = config.firstRate() / 2; rate >= MIN_RATE; rate /= 2) {
                if (sustained(database, ledger, agents, rate, config, probes, disk)) {
                    good = rate;
                    break;
                }
                bad = rate;
            }
        }
        for (int i = 0; i < config.bisections() && good > 0 && bad > 0 && bad - good > good / 10; i++) {
            int mid = (good + bad) / 2;
            if (sustained(database, ledger, agents, mid, config, probes, disk)) {
                good = mid;
            } else {
                bad = mid;
            }
        }
        return good;
    }

    /**
     * Whether the ledger sustains {@code rate}: a probe, and after a failed one a second probe at the
     * same rate. A probe of a few seconds fails on one stall of ~60 ms (a GC pause, a settlement
     * burst, another process taking a core), whatever the rate; without the second chance one such
     * stall in the first probe halved the search down to nothing (an {@code open_loop_rate} of 0 in
     * runs whose later probes sustained thousands per second). The rate found is still checked by
     * the full run, whose p99 is reported as measured ({@code ledger_p99_ms_with_readers}).
     */
    private static boolean sustained(Database database, Ledger ledger, List<AccountKey> agents, int rate, Config config,
            List<Load> probes, DiskProbe disk) {
        return probe(database, ledger, agents, rate, config, probes, disk)
                || probe(database, ledger, agents, rate, config, probes, disk);
    }

    /**
     * One probe at {@code rate}: whether it was sustained, judged by its p99 or, with
     * {@code -Dbench.judge=clearOfDiskStalls}, by the p99 of its transfers that overlapped no
     * stall of the disk ({@link DiskProbe}): what the ledger sustains where the disk lets it.
     */
    private static boolean probe(Database database, Ledger ledger, List<AccountKey> agents, int rate, Config config,
            List<Load> probes, DiskProbe disk) {
        long seqBefore = lastSeq(database);
        long start = System.nanoTime();
        Load probe = load(ledger, agents, rate, config.probeTime(), start);
        DiskProbe.Report flushes = disk.report(start, System.nanoTime(), start, rate, probe.bySchedule(),
                config.p99TargetMs());
        probes.add(probe);
        System.err.printf(Locale.ROOT, "open-loop probe %d/s: %.0f tps, p50 %.2f ms, p99 %.2f ms (%.2f ms clear of the"
                        + " disk's stalls, %d stalls, longest %.0f ms); %s%s%s%n", rate,
                probe.tps(), probe.percentileMs(0.50), probe.percentileMs(0.99), flushes.clearP99Ms(), flushes.stalls(),
                flushes.maxMs(), groups(database, seqBefore, lastSeq(database), probe.seconds()),
                probe.failed() > 0 ? ", " + probe.failed() + " failed" : "", probe.overrun() ? ", overrun" : "");
        boolean delivered = probe.sustained(Double.POSITIVE_INFINITY);
        return JUDGE_CLEAR_OF_DISK_STALLS
                ? delivered && flushes.clearP99Ms() <= config.p99TargetMs()
                : probe.sustained(config.p99TargetMs());
    }

    private static long lastSeq(Database database) {
        try {
            return count(database, "SELECT coalesce(max(seq), 0) FROM transfers");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The writer's groups that committed transfers in {@code (fromSeq, toSeq]}: a group stamps its
     * transfers with one {@code created_at}, so distinct stamps count groups (diagnosis: the
     * commit cadence and the group size at a rate).
     */
    static String groups(Database database, long fromSeq, long toSeq, double seconds) {
        try (Connection c = database.dataSource().getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT count(*), count(DISTINCT created_at) FROM transfers WHERE seq > ? AND seq <= ?")) {
            s.setLong(1, fromSeq);
            s.setLong(2, toSeq);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                long transfers = rs.getLong(1);
                long groups = rs.getLong(2);
                return String.format(Locale.ROOT, "%d groups, %.0f/s, %.1f transfers each", groups, groups / seconds,
                        groups == 0 ? 0.0 : (double) transfers / groups);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Sends {@code rate} transfers per second for {@code duration} from {@code start}, each on a
     * virtual thread started at (or, if the sender lags, after) its scheduled time; its latency is
     * from the scheduled time to its result.
     */
    static Load load(Ledger ledger, List<AccountKey> agents, int rate, Duration duration, long start) {
        int total = (int) Math.min(Integer.MAX_VALUE - 8, (long) rate * duration.toSeconds());
        long[] latencies = new long[total];
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicInteger inFlight = new AtomicInteger();
        boolean overrun = false;
        int sent = 0;
        double intervalNanos = 1e9 / rate;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (; sent < total; sent++) {
            long scheduled = start + (long) (sent * intervalNanos);
            parkUntil(scheduled);
            if (inFlight.get() >= MAX_IN_FLIGHT) {
                overrun = true;
                break;
            }
            int from = random.nextInt(agents.size());
            int to = (from + 1 + random.nextInt(agents.size() - 1)) % agents.size();
            TransferRequest request = TransferRequest.single(randomId(), agents.get(from), agents.get(to),
                    Amount.of(1 + random.nextInt(1_000)));
            int index = sent;
            inFlight.incrementAndGet();
            CompletableFuture<TransferResult> result = ledger.submitAsync(request);
            result.whenComplete((r, e) -> {
                latencies[index] = System.nanoTime() - scheduled;
                inFlight.decrementAndGet();
                if (e == null && r == TransferResult.OK) {
                    ok.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                }
            });
        }
        // Every submission ends within the ledger's request timeout; wait for them, bounded.
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (inFlight.get() > 0 && System.nanoTime() < drainDeadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        failed.addAndGet(inFlight.get());
        double seconds = (System.nanoTime() - start) / 1e9;
        if (Boolean.getBoolean("bench.perSecond")) {
            // Diagnosis: p99 and max of the transfers scheduled in each second (when stalls happen).
            StringBuilder line = new StringBuilder("open-loop " + rate + "/s per second p99/max ms:");
            for (int from = 0; from < sent; from += rate) {
                long[] second = Arrays.stream(latencies, from, Math.min(sent, from + rate)).filter(v -> v > 0).toArray();
                line.append(String.format(Locale.ROOT, " %.0f/%.0f", LedgerBenchmark.percentileMs(second, 0.99),
                        LedgerBenchmark.percentileMs(second, 1.0)));
            }
            System.err.println(line);
        }
        long[] measured = Arrays.stream(latencies, 0, sent).filter(v -> v > 0).toArray();
        return new Load(rate, sent, ok.get(), failed.get(), seconds, measured, overrun, Arrays.copyOf(latencies, sent));
    }

    /**
     * One reader: {@code perSecond} reads, alternately a balance and a history page of a random
     * agent, each dispatched at its scheduled time onto {@code pool} (open loop: a slow read does
     * not hold back the dispatch of the next; its latency still counts from the scheduled time).
     */
    private static void read(LedgerReads reads, List<AccountKey> agents, int perSecond, AtomicBoolean run,
            ReadLog log, ExecutorService pool) {
        long interval = TimeUnit.SECONDS.toNanos(1) / perSecond;
        long next = System.nanoTime();
        for (long i = 0; run.get(); i++) {
            next += interval;
            parkUntil(next);
            long scheduled = next;
            boolean balance = (i & 1) == 0;
            int slot = log.slot();
            pool.execute(() -> {
                long called = System.nanoTime();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                AccountKey agent = agents.get(random.nextInt(agents.size()));
                boolean found = balance
                        ? reads.account(agent).get().isPresent()
                        : reads.history(agent.owner(), Optional.of(agent.token()), Long.MAX_VALUE, HISTORY_PAGE, 0,
                        Duration.ZERO).get().isPresent();
                long answered = System.nanoTime();
                if (!found) {
                    throw new IllegalStateException("agent " + agent + " not found");
                }
                log.add(slot, scheduled, answered - scheduled, answered - called);
            });
        }
    }

    /**
     * Transfers committed and not yet claimed by a settlement batch: above the settlement watermark
     * and without a claim that was not reverted (settlement never writes a transfers row).
     */
    private static long backlog(Database database) throws SQLException {
        return count(database, """
                SELECT count(*) FROM transfers t
                WHERE t.seq > (SELECT w.seq FROM settlement_watermark w)
                  AND NOT EXISTS (SELECT 1 FROM settlement_batch_movements m WHERE m.transfer_id = t.id AND NOT m.reverted)""");
    }

    private static long batches(Database database) throws SQLException {
        return count(database, "SELECT count(*) FROM settlement_batches");
    }

    private static long count(Database database, String sql) throws SQLException {
        try (Connection c = database.dataSource().getConnection(); PreparedStatement s = c.prepareStatement(sql);
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A random id outside the reserved domains (their high 32 bits are all ones). */
    private static TransferId randomId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return new TransferId(random.nextLong() & 0x7FFF_FFFF_FFFF_FFFFL, random.nextLong());
    }

    private static void parkUntil(long nanoTime) {
        long wait;
        while ((wait = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(wait);
        }
    }
}
