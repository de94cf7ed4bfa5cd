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
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.local.HardhatNode;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Durable transfers per second and acknowledgement latency of the ledger against a naive
 * baseline (one database transaction per transfer: two balance UPDATEs and an INSERT) at its
 * best concurrency, both on the same embedded PostgreSQL with synchronous commit on; then the chain
 * half ({@link ChainBenchmark}): settled transfers per second through netted batches against
 * individual ERC-20 sends on a local Hardhat node, and nonce errors. The last line printed is a
 * JSON object with {@code ledger_tps}, {@code naive_tps}, {@code ledger_p99_ms},
 * {@code batched_settled_tps}, {@code individual_sends_tps} and {@code nonce_errors}.
 *
 * <p>Arguments: data directory, ledger transfers, ledger clients, seconds per run, chain profile
 * ({@code full} or {@code quick}, see {@link ChainBenchmark.Config}).
 */
public final class LedgerBenchmark {
    private static final Address TOKEN = Address.of("0x00000000000000000000000000000000000000c1");
    private static final int ACCOUNTS = 1_000;
    private static final int[] NAIVE_CLIENTS = {1, 4, 16, 32};

    private LedgerBenchmark() {
    }

    record Run(String name, int clients, long transfers, double seconds, long[] latenciesNanos) {
        double tps() {
            return transfers / seconds;
        }

        double percentileMs(double p) {
            return LedgerBenchmark.percentileMs(latenciesNanos, p);
        }
    }

    /** The {@code p} quantile of nanosecond latencies, in milliseconds (0 for none). */
    static double percentileMs(long[] latenciesNanos, double p) {
        if (latenciesNanos.length == 0) {
            return 0;
        }
        long[] sorted = latenciesNanos.clone();
        Arrays.sort(sorted);
        int index = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
        return sorted[Math.max(0, index)] / 1e6;
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args.length > 0 ? args[0] : "batcher/target/bench-pg");
        long ledgerTransfers = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
        int ledgerClients = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 60;
        ChainBenchmark.Config chainConfig = args.length > 4 && args[4].equals("quick")
                ? ChainBenchmark.Config.quick() : ChainBenchmark.Config.full();
        int openLoopSeconds = args.length > 5 ? Integer.parseInt(args[5]) : 60;

        if (Boolean.getBoolean("bench.openLoopOnly")) {
            // Diagnosis: the open loop alone (no naive, closed-loop or chain half); ratios against 1 tps.
            OpenLoopBenchmark.Result open = OpenLoopBenchmark.run(HardhatNode.locateContractsDir(),
                    dataDir.resolveSibling(dataDir.getFileName() + "-open-loop"), OpenLoopBenchmark.Config.of(openLoopSeconds));
            System.out.println("{" + openLoop(open, 1) + "}");
            return;
        }
        DatabaseConfig dbConfig = DatabaseConfig.embedded(dataDir).withPoolSize(4);
        String ledgerJson;
        double naiveTps;
        try (Database database = Database.start(dbConfig)) {
            List<Run> runs = new ArrayList<>();
            for (int clients : NAIVE_CLIENTS) {
                Run run = naive(database.jdbcUrl(), clients, Math.min(seconds, 15));
                System.err.printf(Locale.ROOT, "naive, %d clients: %.0f tps%n", clients, run.tps());
                runs.add(run);
            }
            Run ledger = ledger(database, ledgerTransfers, ledgerClients, seconds);
            runs.add(ledger);
            Run bestNaive = runs.stream().filter(r -> r.name().equals("naive"))
                    .max((a, b) -> Double.compare(a.tps(), b.tps())).orElseThrow();

            System.out.printf(Locale.ROOT, "%-8s %8s %10s %10s %10s %10s%n",
                    "system", "clients", "transfers", "tps", "p50_ms", "p99_ms");
            for (Run r : runs) {
                System.out.printf(Locale.ROOT, "%-8s %8d %10d %10.0f %10.2f %10.2f%n", r.name(), r.clients(),
                        r.transfers(), r.tps(), r.percentileMs(0.50), r.percentileMs(0.99));
            }
            double ratio = ledger.tps() / bestNaive.tps();
            naiveTps = bestNaive.tps();
            System.out.printf(Locale.ROOT, "ledger / best naive (%d clients): %.1fx (target >= 10x: %s),"
                            + " ledger p99 %.2f ms (target <= 50 ms: %s)%n", bestNaive.clients(), ratio,
                    met(ratio >= 10), ledger.percentileMs(0.99), met(ledger.percentileMs(0.99) <= 50));
            ledgerJson = String.format(Locale.ROOT,
                    "\"ledger_tps\": %.0f, \"naive_tps\": %.0f, \"ledger_p99_ms\": %.2f, \"ledger_p50_ms\": %.2f,"
                            + " \"naive_best_clients\": %d, \"ratio\": %.1f",
                    ledger.tps(), bestNaive.tps(), ledger.percentileMs(0.99), ledger.percentileMs(0.50),
                    bestNaive.clients(), ratio);
        }

        OpenLoopBenchmark.Result open = OpenLoopBenchmark.run(HardhatNode.locateContractsDir(),
                dataDir.resolveSibling(dataDir.getFileName() + "-open-loop"), OpenLoopBenchmark.Config.of(openLoopSeconds));
        String openJson = openLoop(open, naiveTps);

        ChainBenchmark.Result chain = ChainBenchmark.run(HardhatNode.locateContractsDir(), chainConfig);
        ChainBenchmark.Sends sends = chain.sends();
        System.out.printf(Locale.ROOT, "%n%-22s %9s %8s %10s %10s %12s %10s%n",
                "chain", "transfers", "batches", "seconds", "tps", "gas", "gas/xfer");
        System.out.printf(Locale.ROOT, "%-22s %9d %8s %10.2f %10.1f %12d %10d%n",
                "individual " + sends.keys() + "x" + sends.threads() / sends.keys() + " thr", sends.confirmed(),
                "-", sends.seconds(), sends.tps(), sends.gasUsed(), sends.gasUsed() / Math.max(1, sends.confirmed()));
        List<ChainBenchmark.Settlement> settlements = new ArrayList<>();
        settlements.add(chain.defaultTrigger());
        settlements.add(chain.defaultTriggerViaWrapper());
        settlements.addAll(chain.otherTriggers());
        settlements.add(chain.largestBatches());
        for (ChainBenchmark.Settlement s : settlements) {
            String name = "batched " + s.policy() + (s.path() == ChainBenchmark.SendPath.WRAPPER ? " (web3j send)" : "");
            System.out.printf(Locale.ROOT, "%-22s %9d %8d %10.2f %10.1f %12d %10d%n", name,
                    s.transfers(), s.batches(), s.seconds(), s.tps(), s.gasUsed(), s.gasUsed() / s.transfers());
        }
        System.out.printf(Locale.ROOT, "receipts that came with the broadcast (%s, submitter path): %d of %d%n",
                chain.defaultTrigger().policy(), chain.defaultTrigger().receiptsWithBroadcast(),
                chain.defaultTrigger().batches());
        double largestRatio = chain.largestBatches().tps() / sends.tps();
        double wrapperRatio = chain.defaultTriggerViaWrapper().tps() / sends.tps();
        System.out.printf(Locale.ROOT, "batched (%s) / individual: %.1fx (target >= 50x: %s); through the web3j"
                        + " wrapper's send: %.1fx; largest batches: %.1fx; nonce errors: %d (target 0: %s)%n",
                chain.defaultTrigger().policy(), chain.ratio(), met(chain.ratio() >= 50), wrapperRatio, largestRatio,
                sends.nonceErrors(), met(sends.nonceErrors() == 0));
        System.out.printf(Locale.ROOT, "{%s, \"batched_settled_tps\": %.1f, \"individual_sends_tps\": %.1f,"
                        + " \"nonce_errors\": %d, \"batched_wrapper_tps\": %.1f, \"batched_largest_tps\": %.1f,"
                        + " \"batched_ratio\": %.1f, \"batched_largest_ratio\": %.1f, %s}%n", ledgerJson,
                chain.defaultTrigger().tps(), sends.tps(), sends.nonceErrors(), chain.defaultTriggerViaWrapper().tps(),
                chain.largestBatches().tps(), chain.ratio(), largestRatio, openJson);
    }

    /** Prints the open-loop run's table and verdicts; returns its JSON members. */
    private static String openLoop(OpenLoopBenchmark.Result open, double naiveTps) {
        OpenLoopBenchmark.Load run = open.run();
        System.out.printf(Locale.ROOT, "%nopen loop (%d agents, settlement on a 2 s block chain, %d readers; the rate"
                        + " search judges a probe by %s):%n", 1_000, 4, OpenLoopBenchmark.JUDGE_CLEAR_OF_DISK_STALLS
                        ? "the p99 of its transfers clear of the disk's stalls (-Dbench.judge=clearOfDiskStalls)"
                        : "its p99");
        System.out.printf(Locale.ROOT, "%-10s %8s %10s %10s %10s %10s%n", "load", "rate", "sent", "tps", "p50_ms",
                "p99_ms");
        for (OpenLoopBenchmark.Load probe : open.probes()) {
            System.out.printf(Locale.ROOT, "%-10s %8d %10d %10.0f %10.2f %10.2f%n", "probe", probe.rate(),
                    probe.sent(), probe.tps(), probe.percentileMs(0.50), probe.percentileMs(0.99));
        }
        System.out.printf(Locale.ROOT, "%-10s %8d %10d %10.0f %10.2f %10.2f%n", "run", run.rate(), run.sent(),
                run.tps(), run.percentileMs(0.50), run.percentileMs(0.99));
        System.out.printf(Locale.ROOT, "reads: %d, p50 %.2f ms, p99 %.2f ms (target <= 5 ms: %s); p99 of the read's own"
                        + " time (call to answer, without the wait for a read thread) %.2f ms%n",
                open.reads(), open.readP50Ms(), open.readP99Ms(), met(open.readP99Ms() <= 5), open.readServiceP99Ms());
        System.out.printf(Locale.ROOT, "settlement backlog per second: %s; %d batches in the run%n",
                Arrays.toString(open.backlogPerSecond()), open.batches());
        System.out.printf(Locale.ROOT, "PostgreSQL in the run: %.1f MB WAL (%.0f bytes per transfer), checkpoints"
                        + " requested %d, timed %d%n", open.walBytes() / 1e6, open.walBytes() / (double) Math.max(1,
                        run.ok()), open.checkpointsRequested(), open.checkpointsTimed());
        OpenLoopBenchmark.SettlementAb ab = open.settlementAb();
        for (int i = 0; i < Math.max(ab.paused().size(), ab.running().size()); i++) {
            for (boolean paused : new boolean[] {false, true}) {
                List<OpenLoopBenchmark.Load> loads = paused ? ab.paused() : ab.running();
                if (i < loads.size()) {
                    OpenLoopBenchmark.Load probe = loads.get(i);
                    System.out.printf(Locale.ROOT, "%-10s %8d %10d %10.0f %10.2f %10.2f  reads p99 %.2f ms%n",
                            paused ? "paused" : "settling", probe.rate(), probe.sent(), probe.tps(),
                            probe.percentileMs(0.50), probe.percentileMs(0.99),
                            (paused ? ab.readP99Paused() : ab.readP99Running()).get(i));
                }
            }
        }
        System.out.printf(Locale.ROOT, "at %d/s, median of %d probes each: p99 %.2f ms with settlement running vs %.2f ms"
                        + " paused; reads p99 %.2f ms vs %.2f ms%n", ab.rate(), ab.paused().size(), ab.p99Running(),
                ab.p99Paused(), ab.readP99RunningMedian(), ab.readP99PausedMedian());
        System.out.printf(Locale.ROOT, "GC pauses in the run: %d, %d ms in all, longest %d ms (every thread stops)%n",
                open.gcPauses().size(), GcPauses.totalMillis(open.gcPauses()), GcPauses.maxMillis(open.gcPauses()));
        DiskProbe.Report disk = open.disk();
        System.out.printf(Locale.ROOT, "the disk in the run (an fdatasync of 8 KiB every 10 ms beside the database):"
                        + " p50 %.2f ms, p99 %.2f ms, max %.1f ms; %d flushes over %.0f ms stalled it %.1f %% of the"
                        + " time; transfers that overlapped no stall: %d of %d, p99 %.2f ms%n", disk.p50Ms(), disk.p99Ms(),
                disk.maxMs(), disk.stalls(), 50.0, disk.stalledShare() * 100, disk.transfersClear(), disk.transfersEnded(),
                disk.clearP99Ms());
        double ratio = run.tps() / naiveTps;
        System.out.printf(Locale.ROOT, "with readers and settlement: %.0f tps = %.1fx naive (target >= 10x: %s) at p99"
                        + " %.2f ms (target <= 50 ms: %s); backlog at the end %d vs at 10 s %d (target: not larger: %s)%n",
                run.tps(), ratio, met(ratio >= 10), run.percentileMs(0.99), met(run.percentileMs(0.99) <= 50),
                open.backlogEnd(), open.backlogAt(10), met(open.backlogEnd() <= open.backlogAt(10)));
        return String.format(Locale.ROOT, "\"open_loop_rate\": %d, \"ledger_tps_with_readers\": %.0f,"
                        + " \"ledger_p99_ms_with_readers\": %.2f, \"read_p99_ms\": %.2f, \"settlement_backlog_max\": %d,"
                        + " \"settlement_backlog_end\": %d, \"settlement_backlog_10s\": %d, \"ratio_with_readers\": %.1f,"
                        + " \"settlement_batches\": %d, \"wal_bytes_per_transfer\": %.0f, \"pg_checkpoints_requested\": %d,"
                        + " \"ab_rate\": %d, \"probe_p99_ms_settlement_running\": %.2f, \"probe_p99_ms_settlement_paused\": %.2f,"
                        + " \"read_p99_ms_settlement_running\": %.2f, \"read_p99_ms_settlement_paused\": %.2f,"
                        + " \"read_service_p99_ms\": %.2f, \"disk_fsync_p99_ms\": %.2f, \"disk_fsync_max_ms\": %.1f,"
                        + " \"disk_stalled_share\": %.4f, \"ledger_p99_ms_clear_of_disk_stalls\": %.2f,"
                        + " \"transfers_share_clear_of_disk_stalls\": %.4f, \"search_judged_by\": \"%s\","
                        + " \"gc_pauses_in_run\": %d, \"gc_pause_ms_total_in_run\": %d, \"gc_pause_ms_max_in_run\": %d",
                open.rate(), run.tps(), run.percentileMs(0.99), open.readP99Ms(), open.backlogMax(), open.backlogEnd(),
                open.backlogAt(10), ratio, open.batches(), open.walBytes() / (double) Math.max(1, run.ok()),
                open.checkpointsRequested(), ab.rate(), ab.p99Running(), ab.p99Paused(), ab.readP99RunningMedian(),
                ab.readP99PausedMedian(), open.readServiceP99Ms(), disk.p99Ms(), disk.maxMs(), disk.stalledShare(),
                disk.clearP99Ms(), disk.transfersClear() / (double) Math.max(1, disk.transfersEnded()),
                OpenLoopBenchmark.JUDGE_CLEAR_OF_DISK_STALLS ? "p99_clear_of_disk_stalls" : "p99", open.gcPauses().size(), GcPauses.totalMillis(open.gcPauses()),
                GcPauses.maxMillis(open.gcPauses()));
    }

    private static String met(boolean met) {
        return met ? "met" : "NOT met";
    }

    // ------------------------------------------------------------------ ledger

    private static Run ledger(Database database, long transfers, int clients, int seconds) throws Exception {
        LedgerConfig defaults = LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused")));
        // -Dbench.checkpointEveryGroups=N compares the writer's cost of current account rows (1, the default) with N.
        LedgerConfig config = defaults.withCheckpointEveryGroups(
                Integer.getInteger("bench.checkpointEveryGroups", defaults.checkpointEveryGroups()));
        try (Ledger ledger = Ledger.start(database.dataSource(), config, Clock.systemUTC())) {
            ledger.registerToken(new Token(TOKEN, "USDC", 6), "bench", "benchmark token");
            List<AccountKey> users = new ArrayList<>();
            long runId = System.nanoTime();
            List<TransferRequest> deposits = new ArrayList<>();
            for (int i = 0; i < ACCOUNTS; i++) {
                AccountKey user = AccountKey.user(Address.of(String.format("0x%040x", 0xB000 + i)), TOKEN);
                users.add(user);
                deposits.add(TransferRequest.single(new TransferId(runId, i), AccountKey.custody(TOKEN), user,
                        Amount.of(1_000_000_000_000L)));
                if (deposits.size() == config.maxSubmissionSize()) {
                    ledger.submit(deposits);
                    deposits.clear();
                }
            }
            ledger.submit(deposits);
            drive(ledger, users, runId + 1, Math.min(20_000, transfers / 10), clients, seconds);
            return drive(ledger, users, runId + 2, transfers, clients, seconds);
        }
    }

    private static Run drive(Ledger ledger, List<AccountKey> users, long prefix, long transfers, int clients,
            int seconds) throws Exception {
        AtomicLong next = new AtomicLong();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long[] latencies = new long[(int) transfers];
        AtomicLong done = new AtomicLong();
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    long i;
                    while ((i = next.getAndIncrement()) < transfers && System.nanoTime() < deadline) {
                        int from = random.nextInt(users.size());
                        int to = (from + 1 + random.nextInt(users.size() - 1)) % users.size();
                        TransferRequest request = TransferRequest.single(new TransferId(prefix, i), users.get(from),
                                users.get(to), Amount.of(1 + random.nextInt(1_000)));
                        long t0 = System.nanoTime();
                        TransferResult result = ledger.submit(request);
                        latencies[(int) i] = System.nanoTime() - t0;
                        if (result != TransferResult.OK) {
                            throw new IllegalStateException("unexpected result " + result);
                        }
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long count = done.get();
        return new Run("ledger", clients, count, elapsed, Arrays.copyOf(nonZero(latencies), (int) count));
    }

    private static long[] nonZero(long[] values) {
        return Arrays.stream(values).filter(v -> v > 0).toArray();
    }

    // ------------------------------------------------------------------ naive baseline

    private static Run naive(String jdbcUrl, int clients, int seconds) throws Exception {
        try (Connection c = connect(jdbcUrl); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS naive CASCADE");
            s.execute("CREATE SCHEMA naive");
            s.execute("CREATE TABLE naive.accounts (id BIGINT PRIMARY KEY,"
                    + " balance NUMERIC(78,0) NOT NULL CHECK (balance >= 0))");
            s.execute("CREATE TABLE naive.transfers (id UUID PRIMARY KEY, debit_account_id BIGINT NOT NULL,"
                    + " credit_account_id BIGINT NOT NULL, amount NUMERIC(78,0) NOT NULL CHECK (amount > 0),"
                    + " created_at TIMESTAMPTZ NOT NULL)");
            s.execute("INSERT INTO naive.accounts SELECT g, 1000000000000 FROM generate_series(0, "
                    + (ACCOUNTS - 1) + ") g");
        }
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        List<long[]> perClient = new ArrayList<>();
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<long[]>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                futures.add(pool.submit(() -> naiveClient(jdbcUrl, deadline)));
            }
            for (Future<long[]> f : futures) {
                perClient.add(f.get());
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        long[] latencies = perClient.stream().flatMapToLong(Arrays::stream).toArray();
        return new Run("naive", clients, latencies.length, elapsed, latencies);
    }

    /** One transaction per transfer: debit UPDATE (refusing overdraft), credit UPDATE, INSERT, COMMIT. */
    private static long[] naiveClient(String jdbcUrl, long deadline) throws SQLException {
        List<Long> latencies = new ArrayList<>();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (Connection c = connect(jdbcUrl);
             PreparedStatement debit = c.prepareStatement(
                     "UPDATE naive.accounts SET balance = balance - ? WHERE id = ? AND balance >= ?");
             PreparedStatement credit = c.prepareStatement(
                     "UPDATE naive.accounts SET balance = balance + ? WHERE id = ?");
             PreparedStatement insert = c.prepareStatement("INSERT INTO naive.transfers"
                     + " (id, debit_account_id, credit_account_id, amount, created_at) VALUES (?, ?, ?, ?, now())")) {
            c.setAutoCommit(false);
            while (System.nanoTime() < deadline) {
                long from = random.nextInt(ACCOUNTS);
                long to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                BigDecimal amount = BigDecimal.valueOf(1 + random.nextInt(1_000));
                long t0 = System.nanoTime();
                // Lock the two rows in id order so concurrent clients cannot deadlock.
                boolean debitFirst = from < to;
                boolean ok = true;
                for (int step = 0; step < 2; step++) {
                    if ((step == 0) == debitFirst) {
                        debit.setBigDecimal(1, amount);
                        debit.setLong(2, from);
                        debit.setBigDecimal(3, amount);
                        ok &= debit.executeUpdate() == 1;
                    } else {
                        credit.setBigDecimal(1, amount);
                        credit.setLong(2, to);
                        credit.executeUpdate();
                    }
                }
                if (!ok) {
                    c.rollback();
                    continue;
                }
                insert.setObject(1, UUID.randomUUID());
                insert.setLong(2, from);
                insert.setLong(3, to);
                insert.setBigDecimal(4, amount);
                insert.executeUpdate();
                c.commit();
                latencies.add(System.nanoTime() - t0);
            }
        }
        return latencies.stream().mapToLong(Long::longValue).toArray();
    }

    private static Connection connect(String jdbcUrl) throws SQLException {
        Connection c = DriverManager.getConnection(jdbcUrl, "postgres", "postgres");
        try (Statement s = c.createStatement()) {
            s.execute("SET synchronous_commit = on");
        }
        return c;
    }
}
