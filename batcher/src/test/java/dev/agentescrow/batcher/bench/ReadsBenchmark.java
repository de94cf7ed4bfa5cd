package dev.agentescrow.batcher.bench;

import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The latency of {@link LedgerReads} alone (issue 11, "reads p99 <= 5 ms"): on one embedded
 * PostgreSQL with {@code accounts} users and {@code transfers} payments between them, 4 threads
 * make {@code balances} balance reads and {@code pages} history pages (50 entries, one token) in
 * total, closed loop, each read at least at the last committed seq; prints p50/p99 per kind.
 * Arguments: data directory, balances (20,000), pages (5,000), accounts (1,000), transfers (20,000).
 */
public final class ReadsBenchmark {
    private static final int THREADS = 4;
    private static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");

    private ReadsBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args.length > 0 ? args[0] : "batcher/target/bench-reads-pg");
        int balances = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        int pages = args.length > 2 ? Integer.parseInt(args[2]) : 5_000;
        int accounts = args.length > 3 ? Integer.parseInt(args[3]) : 1_000;
        int transfers = args.length > 4 ? Integer.parseInt(args[4]) : 20_000;
        DatabaseConfig dbConfig = DatabaseConfig.embedded(dataDir).withPoolSize(THREADS + 2);
        try (Database database = Database.start(dbConfig);
             Ledger ledger = Ledger.start(database.dataSource(), LedgerConfig.defaults(dbConfig), Clock.systemUTC())) {
            ledger.registerToken(new Token(USDC, "USDC", 6), "bench", "reads");
            long ids = 1;
            List<TransferRequest> deposits = new ArrayList<>();
            for (int i = 0; i < accounts; i++) {
                deposits.add(TransferRequest.single(new TransferId(0xBE7C, ids++), AccountKey.custody(USDC),
                        AccountKey.user(agent(i), USDC), Amount.of(1_000_000_000L)));
            }
            long last = submit(ledger, deposits);
            SplittableRandom random = new SplittableRandom(11);
            for (int done = 0; done < transfers; done += 500) {
                List<TransferRequest> batch = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    int from = random.nextInt(accounts);
                    int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
                    batch.add(TransferRequest.single(new TransferId(0xBE7C, ids++), AccountKey.user(agent(from), USDC),
                            AccountKey.user(agent(to), USDC), Amount.of(1 + random.nextInt(1_000))));
                }
                last = Math.max(last, submit(ledger, batch));
            }
            LedgerReads reads = new LedgerReads(database.dataSource());
            long atLeast = last;
            long warmSeq = reads.account(AccountKey.user(agent(0), USDC), 0, Duration.ZERO).position();
            System.err.printf(Locale.ROOT, "seeded %d accounts, last seq %d (balances at %d)%n", accounts, last, warmSeq);
            run("warm-up", 2_000, 500, accounts, reads, atLeast);
            run("measured", balances, pages, accounts, reads, atLeast);
        }
    }

    private static long submit(Ledger ledger, List<TransferRequest> requests) {
        long last = 0;
        for (TransferReceipt receipt : ledger.submitReceipts(requests)) {
            if (receipt.result() != TransferResult.OK) {
                throw new IllegalStateException("seed transfer refused: " + receipt.result());
            }
            last = Math.max(last, receipt.seq());
        }
        return last;
    }

    private static Address agent(int i) {
        return Address.of(String.format(Locale.ROOT, "0x%040x", 0xA6E47L << 20 | i));
    }

    private static void run(String label, int balances, int pages, int accounts, LedgerReads reads, long atLeast)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<long[][]>> parts = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            parts.add(pool.submit(() -> {
                SplittableRandom random = new SplittableRandom(thread);
                long[] balance = new long[balances / THREADS];
                long[] page = new long[pages / THREADS];
                int b = 0;
                int p = 0;
                while (b < balance.length || p < page.length) {
                    Address owner = agent(random.nextInt(accounts));
                    boolean history = p < page.length && (b >= balance.length || random.nextInt(5) == 0);
                    long t0 = System.nanoTime();
                    Read<?> read = history
                            ? reads.history(owner, Optional.of(USDC), Long.MAX_VALUE, 50, atLeast, Duration.ofSeconds(5))
                            : reads.account(AccountKey.user(owner, USDC), atLeast, Duration.ofSeconds(5));
                    long elapsed = System.nanoTime() - t0;
                    if (read.status() != Read.Status.FOUND) {
                        throw new IllegalStateException("read " + read.status());
                    }
                    if (history) {
                        page[p++] = elapsed;
                    } else {
                        balance[b++] = elapsed;
                    }
                }
                return new long[][] {balance, page};
            }));
        }
        List<long[]> balance = new ArrayList<>();
        List<long[]> page = new ArrayList<>();
        for (Future<long[][]> part : parts) {
            long[][] r = part.get(10, TimeUnit.MINUTES);
            balance.add(r[0]);
            page.add(r[1]);
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - start) / 1e9;
        long[] b = merge(balance);
        long[] p = merge(page);
        System.out.printf(Locale.ROOT, "%s: %d balance reads p50 %.2f ms p99 %.2f ms; %d history pages p50 %.2f ms"
                        + " p99 %.2f ms; %.0f reads/s from %d threads%n", label, b.length, ms(b, 0.50), ms(b, 0.99),
                p.length, ms(p, 0.50), ms(p, 0.99), (b.length + p.length) / seconds, THREADS);
    }

    private static long[] merge(List<long[]> parts) {
        long[] all = parts.stream().flatMapToLong(Arrays::stream).toArray();
        Arrays.sort(all);
        return all;
    }

    private static double ms(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] / 1e6;
    }
}
