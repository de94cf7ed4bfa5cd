package dev.agentescrow.batcher.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * Diagnosis of the open-loop benchmark ({@code -Dbench.waits=true}): every {@code intervalMillis}
 * it samples, on a connection of its own (outside the pool it watches), what each PostgreSQL
 * session that is not idle is doing ({@code pg_stat_activity}: its wait event and the start of its
 * statement) and how many threads wait for a pooled connection (Hikari's
 * {@code threadsAwaitingConnection}), and counts them per phase of the benchmark (the phase is
 * set by the benchmark: a probe with settlement paused, one with it running, the run). The counts
 * say where sessions spend their time: a session sampled n times in a state was in it about
 * n x interval.
 */
final class WaitSampler implements AutoCloseable {
    private static final String SAMPLE = """
            SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-'), state,
                   regexp_replace(left(query, 70), '\\s+', ' ', 'g')
            FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state NOT IN ('idle')""";

    private final Connection connection;
    private final HikariDataSource pool;
    private final long intervalNanos;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile String phase = "setup";
    /** phase -> "wait | statement" -> samples. */
    private final Map<String, Map<String, AtomicLong>> counts = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> samples = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> awaitingSum = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> awaitingMax = new ConcurrentHashMap<>();

    private WaitSampler(Connection connection, DataSource pool, long intervalMillis) {
        this.connection = connection;
        this.pool = pool instanceof HikariDataSource hikari ? hikari : null;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMillis);
        this.thread = Thread.ofPlatform().name("bench-wait-sampler").daemon(true).start(this::loop);
    }

    static WaitSampler start(String jdbcUrl, String user, String password, DataSource pool, long intervalMillis)
            throws SQLException {
        return new WaitSampler(DriverManager.getConnection(jdbcUrl, user, password), pool, intervalMillis);
    }

    void phase(String name) {
        phase = name;
    }

    private void loop() {
        try (PreparedStatement s = connection.prepareStatement(SAMPLE)) {
            long next = System.nanoTime();
            while (running) {
                next += intervalNanos;
                long wait;
                while ((wait = next - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                String at = phase;
                Map<String, AtomicLong> phaseCounts = counts.computeIfAbsent(at, k -> new ConcurrentHashMap<>());
                samples.computeIfAbsent(at, k -> new AtomicLong()).incrementAndGet();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        String key = rs.getString(1) + " | " + rs.getString(2) + " | " + rs.getString(3);
                        phaseCounts.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
                    }
                }
                if (pool != null && pool.getHikariPoolMXBean() != null) {
                    long awaiting = pool.getHikariPoolMXBean().getThreadsAwaitingConnection();
                    awaitingSum.computeIfAbsent(at, k -> new AtomicLong()).addAndGet(awaiting);
                    awaitingMax.computeIfAbsent(at, k -> new AtomicLong()).accumulateAndGet(awaiting, Math::max);
                }
            }
        } catch (SQLException e) {
            if (running) {
                System.err.println("wait sampler stopped: " + e);
            }
        }
    }

    /** The top {@code top} states of each phase, with their share of samples. */
    List<String> report(int top) {
        List<String> lines = new ArrayList<>();
        for (var phaseEntry : counts.entrySet()) {
            long n = samples.getOrDefault(phaseEntry.getKey(), new AtomicLong()).get();
            lines.add(String.format(Locale.ROOT, "waits in %s: %d samples; threads awaiting a pooled connection: mean %.2f,"
                            + " max %d", phaseEntry.getKey(), n,
                    awaitingSum.getOrDefault(phaseEntry.getKey(), new AtomicLong()).get() / (double) Math.max(1, n),
                    awaitingMax.getOrDefault(phaseEntry.getKey(), new AtomicLong()).get()));
            phaseEntry.getValue().entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue().get(), a.getValue().get()))
                    .limit(top)
                    .forEach(e -> lines.add(String.format(Locale.ROOT, "  %6.3f sessions  %s",
                            e.getValue().get() / (double) Math.max(1, n), e.getKey())));
        }
        return lines;
    }

    @Override
    public void close() throws Exception {
        running = false;
        thread.join(TimeUnit.SECONDS.toMillis(5));
        connection.close();
    }
}
