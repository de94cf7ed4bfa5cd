package dev.agentescrow.batcher.leadership;

import dev.agentescrow.batcher.db.WriteFence;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One writer per database, and a standby that takes over: a process leads while it holds the
 * ledger writer's PostgreSQL session advisory lock on a session of its own (the lock session), and
 * writes while the {@code leadership} row holds the epoch it incremented when it took the lock.
 *
 * <ul>
 *   <li><b>Standby</b>: every {@code pollInterval} it tries {@code pg_try_advisory_lock}. When it
 *       gets the lock it locks the leadership row {@code FOR UPDATE} (waiting for any write of the
 *       deposed leader that already passed its fence; after {@code takeoverLockTimeout} it
 *       terminates those sessions: their leader lost the lock, nothing of theirs was acknowledged
 *       unless it committed), increments the epoch, records its id and address, commits, and only
 *       then starts the {@link Term} with an {@link EpochFence} of the new epoch.</li>
 *   <li><b>Leader</b>: every {@code heartbeatInterval} it updates the row's heartbeat on the lock
 *       session, guarded by its epoch, with a query and socket timeout of {@code heartbeatTimeout}.
 *       The server ends that session after {@code sessionIdleTimeout} without a statement, which
 *       frees the lock for a standby. A heartbeat that fails or times out, or a write the fence
 *       refuses, makes the leader step down: it reports STANDBY at once, closes the term, gives the
 *       lock back and stands by again.</li>
 * </ul>
 *
 * Safety never rests on time: two leaders may overlap for a moment (a deposed one that has not
 * noticed yet), but only the one holding the current epoch can commit a write. Every change of role
 * happens on the election's one thread; listeners are told on another.
 *
 * @param <T> what runs while this process leads
 */
public final class LeaderElection<T extends LeaderElection.Term> implements AutoCloseable {
    /** What a leader runs; closed when it steps down. */
    public interface Term extends AutoCloseable {
        @Override
        void close();
    }

    /** Starts a term for {@code epoch}; every write of the term must check {@code fence}. */
    @FunctionalInterface
    public interface TermFactory<T extends Term> {
        T start(long epoch, WriteFence fence);
    }

    private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);
    private static final String LOCK_NOT_AVAILABLE = "55P03";
    private static final int TAKEOVER_ATTEMPTS = 5;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(90);

    private final DataSource dataSource;
    private final long lockKey;
    private final LeadershipConfig config;
    private final TermFactory<T> factory;
    private final Clock clock;
    private final ScheduledExecutorService election;
    private final ExecutorService events;
    private final List<LeadershipListener> listeners = new CopyOnWriteArrayList<>();
    private final Counter fencedWrites;
    private final MeterRegistry registry;

    private volatile Role role = Role.STANDBY;
    private volatile long epoch;
    private volatile T term;
    private volatile boolean closed;
    private LeadershipChange last;
    /** Written on the election thread; aborted from another when a write is refused. */
    private volatile Connection lockSession;

    private LeaderElection(DataSource dataSource, long lockKey, LeadershipConfig config, TermFactory<T> factory,
                           Clock clock, MeterRegistry registry) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.lockKey = lockKey;
        this.config = Objects.requireNonNull(config, "config");
        this.factory = Objects.requireNonNull(factory, "factory");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.election = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("leader-election").daemon(true).factory());
        this.events = Executors.newSingleThreadExecutor(
                Thread.ofPlatform().name("leader-events").daemon(true).factory());
        this.last = new LeadershipChange(Role.STANDBY, 0, LeadershipChange.Reason.CURRENT, "starting", clock.instant());
        Gauge.builder("batcher.leader", this, e -> e.role == Role.LEADER ? 1 : 0)
                .description("1 while this process leads (writer, indexer, submitter), 0 while it stands by")
                .register(registry);
        Gauge.builder("batcher.leadership.epoch", this, e -> e.epoch)
                .description("the epoch this process was last elected with (0: never)").register(registry);
        this.fencedWrites = Counter.builder("batcher.leadership.fenced")
                .description("writes refused because a newer epoch exists").register(registry);
    }

    /**
     * Starts the election and tries the lock once before returning: on a database nobody leads,
     * this process returns as the leader. If that first term fails to start, the lock is given back
     * and the failure is thrown (with everything stopped).
     *
     * @param lockKey the ledger writer's advisory lock key: a ledger running alone on the database
     *                holds the same lock, so the two exclude each other
     */
    public static <T extends Term> LeaderElection<T> start(DataSource dataSource, long lockKey,
            LeadershipConfig config, TermFactory<T> factory, Clock clock, MeterRegistry registry) {
        LeaderElection<T> e = new LeaderElection<>(dataSource, lockKey, config, factory, clock, registry);
        try {
            e.election.submit(() -> e.tryTakeOver(true)).get();
        } catch (ExecutionException failure) {
            e.shutdownExecutors();
            if (failure.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("could not start the leader election", failure.getCause());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            e.shutdownExecutors();
            throw new IllegalStateException("interrupted while starting the leader election", interrupted);
        }
        e.scheduleNext();
        return e;
    }

    /** LEADER while this process holds the lock and its term runs; STANDBY otherwise. */
    public Role role() {
        return role;
    }

    /** The epoch this process was last elected with (0 if it never led). */
    public long epoch() {
        return epoch;
    }

    /**
     * The running term, while this process leads: empty as soon as it reports STANDBY (a refused
     * write demotes at once, the election thread closes the term a moment later).
     */
    public Optional<T> term() {
        T running = term;
        return role == Role.LEADER ? Optional.ofNullable(running) : Optional.empty();
    }

    /** Adds a listener; it is told the current state first, then every change. */
    public void addListener(LeadershipListener listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (this) {
            listeners.add(listener);
            LeadershipChange current = new LeadershipChange(last.role(), last.epoch(), LeadershipChange.Reason.CURRENT,
                    last.detail(), last.at());
            events.execute(() -> tell(listener, current));
        }
    }

    /** The leadership row as any instance reads it (empty before the first election). */
    public static Optional<LeaderInfo> current(DataSource dataSource) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     SELECT epoch, leader_id, leader_address, elected_at, heartbeat_at FROM leadership WHERE id = 1""");
             ResultSet rs = s.executeQuery()) {
            if (!rs.next() || rs.getLong(1) == 0) {
                return Optional.empty();
            }
            return Optional.of(new LeaderInfo(rs.getLong(1), rs.getString(2), Optional.ofNullable(rs.getString(3)),
                    rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant()));
        } catch (SQLException e) {
            throw new IllegalStateException("could not read the leadership row", e);
        }
    }

    /** Steps down if leading (the term closes, the lock is given back), then stops the election. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            election.submit(() -> {
                stepDown(LeadershipChange.Reason.CLOSED, "the batcher is closing");
            }).get(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.error("stepping down on close failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            shutdownExecutors();
        }
    }

    // ------------------------------------------------------------------ the election thread

    private void scheduleNext() {
        if (closed) {
            return;
        }
        Duration delay = role == Role.LEADER ? config.heartbeatInterval() : config.pollInterval();
        try {
            election.schedule(this::tick, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("election stopped; no further turn", e);
        }
    }

    private void tick() {
        try {
            if (closed) {
                return;
            }
            if (role == Role.LEADER) {
                heartbeat();
            } else {
                tryTakeOver(false);
            }
        } catch (RuntimeException e) {
            log.error("leader election turn failed", e);
        } finally {
            scheduleNext();
        }
    }

    private void tryTakeOver(boolean first) {
        Connection c;
        try {
            c = dataSource.getConnection();
        } catch (SQLException e) {
            if (first) {
                throw new IllegalStateException("could not reach the database to try the writer lock", e);
            }
            log.warn("standby could not reach the database: {}", e.getMessage());
            return;
        }
        try {
            c.setAutoCommit(true);
            if (!tryLock(c)) {
                close(c);
                if (first) {
                    log.info("another process leads (writer lock {} held); standing by", lockKey);
                    publish(Role.STANDBY, LeadershipChange.Reason.CURRENT, "another process holds the writer lock");
                }
                return;
            }
        } catch (SQLException e) {
            close(c);
            if (first) {
                throw new IllegalStateException("could not try the writer lock", e);
            }
            log.warn("standby could not try the writer lock: {}", e.getMessage());
            return;
        }
        lockSession = c;
        long elected;
        try {
            configureLockSession(c);
            elected = incrementEpoch(c);
            log.info("took the writer lock; elected with epoch {} as {}", elected, config.nodeId());
            term = factory.start(elected, new EpochFence(elected, this::refused));
            // Only now the server may end an idle lock session (starting the term may take long),
            // and only now every statement on it must answer within the heartbeat timeout.
            try (Statement s = c.createStatement()) {
                s.execute("SET idle_session_timeout = " + config.sessionIdleTimeout().toMillis());
            }
            c.setNetworkTimeout(Runnable::run, Math.toIntExact(config.heartbeatTimeout().toMillis()));
        } catch (SQLException | RuntimeException e) {
            T failed = term;
            term = null;
            if (failed != null) {
                closeTerm(failed);
            }
            releaseLockSession();
            publish(Role.STANDBY, LeadershipChange.Reason.TERM_FAILED, "took the writer lock but could not start"
                    + " leading: " + e.getMessage());
            if (first) {
                throw e instanceof RuntimeException runtime ? runtime
                        : new IllegalStateException("could not take over", e);
            }
            log.error("took the writer lock but could not start leading; gave it back", e);
            return;
        }
        synchronized (this) {
            epoch = elected;
            role = Role.LEADER;
            publish(Role.LEADER, LeadershipChange.Reason.ELECTED, "elected with epoch " + elected);
        }
    }

    private boolean tryLock(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            s.setLong(1, lockKey);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * The lock session notices a dead peer in seconds on both ends: a socket timeout on this side
     * (every statement on it answers within {@code heartbeatTimeout} or the session counts as lost),
     * TCP keepalive and a TCP user timeout on the server's side.
     */
    private void configureLockSession(Connection c) throws SQLException {
        // The takeover may wait takeoverLockTimeout per attempt (terminating deposed writers between).
        c.setNetworkTimeout(Runnable::run, Math.toIntExact(config.takeoverLockTimeout().multipliedBy(TAKEOVER_ATTEMPTS)
                .plus(config.heartbeatTimeout()).toMillis()));
        long idleMillis = config.sessionIdleTimeout().toMillis();
        long keepaliveSeconds = Math.max(1, config.sessionIdleTimeout().toSeconds() / 3);
        try (Statement s = c.createStatement()) {
            s.execute("SET tcp_keepalives_idle = " + keepaliveSeconds);
            s.execute("SET tcp_keepalives_interval = " + keepaliveSeconds);
            s.execute("SET tcp_keepalives_count = 3");
            s.execute("SET tcp_user_timeout = " + idleMillis);
            s.execute("SET application_name = 'agentescrow leader lock'");
        }
    }

    /**
     * Locks the leadership row FOR UPDATE (so every write that passed the old epoch's fence has
     * ended) and increments the epoch. A deposed leader's write transaction left open (its
     * connection half-open) would hold the row for as long as its server session lives: after
     * {@code takeoverLockTimeout} those sessions are terminated. They belong to a leader that lost
     * the lock, so no current writer is ever among them.
     */
    private long incrementEpoch(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try {
            for (int attempt = 1; ; attempt++) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL lock_timeout = " + config.takeoverLockTimeout().toMillis());
                    s.executeQuery("SELECT epoch FROM leadership WHERE id = 1 FOR UPDATE").close();
                    break;
                } catch (SQLException e) {
                    c.rollback();
                    if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState()) || attempt == TAKEOVER_ATTEMPTS) {
                        throw e;
                    }
                    terminateDeposedWriters(c);
                }
            }
            long elected;
            try (PreparedStatement s = c.prepareStatement("""
                    UPDATE leadership SET epoch = epoch + 1, leader_id = ?, leader_address = ?, elected_at = now(),
                        heartbeat_at = now()
                    WHERE id = 1 RETURNING epoch""")) {
                s.setString(1, config.nodeId());
                s.setString(2, config.address().orElse(null));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    elected = rs.getLong(1);
                }
            }
            c.commit();
            return elected;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Terminates the sessions holding the leadership row under a fence check (ROW SHARE on the table). */
    private void terminateDeposedWriters(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("""
                SELECT pid, pg_terminate_backend(pid) FROM (
                    SELECT DISTINCT pid FROM pg_locks
                    WHERE locktype = 'relation' AND relation = 'leadership'::regclass AND mode = 'RowShareLock'
                      AND granted AND pid <> pg_backend_pid()) deposed""");
             ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                log.warn("terminated session {} of a deposed leader's open write (terminated: {})", rs.getInt(1),
                        rs.getBoolean(2));
            }
        }
        c.commit();
    }

    /**
     * Proves the lock session alive and the epoch still this term's. Its commit does not wait for a
     * WAL flush ({@code synchronous_commit} off for this statement alone): {@code heartbeat_at} is
     * for display, and a flush can take seconds behind a large write or a disk stall (measured: a
     * confirmed batch's 10,000 settled events then a stall of the disk held one for over 3 s, and
     * the only instance stepped down from a lead nobody else wanted). The election's epoch, which
     * fences writes, still commits durably.
     */
    private void heartbeat() {
        try (PreparedStatement s = lockSession.prepareStatement("UPDATE leadership SET heartbeat_at = now()"
                + " FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
                + " WHERE id = 1 AND epoch = ?")) {
            s.setQueryTimeout(Math.toIntExact(Math.max(1, config.heartbeatTimeout().toSeconds())));
            s.setLong(1, epoch);
            if (s.executeUpdate() != 1) {
                fencedWrites.increment();
                stepDown(LeadershipChange.Reason.FENCED, "the leadership row holds a newer epoch than " + epoch);
            }
        } catch (SQLException e) {
            stepDown(LeadershipChange.Reason.LOCK_SESSION_LOST, "lock session heartbeat failed: " + e.getMessage());
        }
    }

    /**
     * From any thread: a write of {@code fencedEpoch} was refused. If that is still this term, the
     * process reports STANDBY at once, aborts the lock session (so a heartbeat stuck on a silent
     * connection fails now) and the election thread ends the term.
     */
    private void refused(long fencedEpoch) {
        fencedWrites.increment();
        log.error("a write of epoch {} was refused: another process leads", fencedEpoch);
        if (!demote(fencedEpoch, LeadershipChange.Reason.FENCED,
                "a write of epoch " + fencedEpoch + " was refused: a newer epoch exists")) {
            return;
        }
        Connection session = lockSession;
        if (session != null) {
            try {
                session.abort(Runnable::run);
            } catch (SQLException e) {
                log.warn("could not abort the lock session of epoch {}", fencedEpoch, e);
            }
        }
        try {
            election.execute(this::endTerm);
        } catch (RejectedExecutionException e) {
            log.debug("election already stopped; the refused term is closing with it", e);
        }
    }

    /** On the election thread: reports STANDBY (unless already reported), then ends the term. */
    private void stepDown(LeadershipChange.Reason reason, String detail) {
        demote(epoch, reason, detail);
        endTerm();
    }

    /** LEADER of {@code termEpoch} to STANDBY, reported once; false if that already happened. */
    private synchronized boolean demote(long termEpoch, LeadershipChange.Reason reason, String detail) {
        if (role != Role.LEADER || epoch != termEpoch) {
            return false;
        }
        role = Role.STANDBY;
        log.warn("stepping down from epoch {}: {}", termEpoch, detail);
        publish(Role.STANDBY, reason, detail);
        return true;
    }

    /** On the election thread: closes the term (it may take a while to stop) and gives the lock back. */
    private void endTerm() {
        T ending = term;
        term = null;
        if (ending != null) {
            closeTerm(ending);
        }
        releaseLockSession();
    }

    private void closeTerm(T ending) {
        try {
            ending.close();
        } catch (RuntimeException e) {
            log.error("closing the leader's term failed", e);
        }
    }

    private void releaseLockSession() {
        Connection c = lockSession;
        lockSession = null;
        if (c == null) {
            return;
        }
        try {
            if (!c.isClosed()) {
                try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                    s.setLong(1, lockKey);
                    s.executeQuery().close();
                }
                try (Statement s = c.createStatement()) {
                    s.execute("RESET ALL");
                }
            }
        } catch (SQLException e) {
            log.warn("could not give the writer lock back ({}); the server frees it with the session", e.getMessage());
        } finally {
            close(c);
        }
    }

    private void publish(Role newRole, LeadershipChange.Reason reason, String detail) {
        if (reason != LeadershipChange.Reason.CURRENT) {
            registry.counter("batcher.leadership.changes", "reason", reason.name()).increment();
        }
        synchronized (this) {
            LeadershipChange change = new LeadershipChange(newRole, epoch, reason, detail, clock.instant());
            last = change;
            for (LeadershipListener listener : listeners) {
                try {
                    events.execute(() -> tell(listener, change));
                } catch (RejectedExecutionException e) {
                    log.debug("listeners stopped; change {} not told", change, e);
                }
            }
        }
    }

    private static void tell(LeadershipListener listener, LeadershipChange change) {
        try {
            listener.changed(change);
        } catch (RuntimeException e) {
            log.error("leadership listener failed on {}", change, e);
        }
    }

    private static void close(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            log.warn("could not close the lock session", e);
        }
    }

    private void shutdownExecutors() {
        election.shutdownNow();
        events.shutdown();
    }
}
