package dev.agentescrow.batcher.leadership;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.db.FencedException;
import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.LedgerMetrics;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.ledger.db.Migrations;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The election and the epoch fence against a real PostgreSQL: one leader at a time, a standby that
 * takes over when the leader's lock session ends, and a deposed leader's writes refused in their
 * own transaction.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class LeadershipIT {
    private static final long LOCK_KEY = LedgerConfig.DEFAULT_ADVISORY_LOCK_KEY;
    private static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    private static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    private static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    private static final LedgerConfig LEDGER = LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused")));

    /** A term that only records that it ran. */
    private static final class RecordingTerm implements LeaderElection.Term {
        final long epoch;
        volatile boolean closed;

        RecordingTerm(long epoch) {
            this.epoch = epoch;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static LeadershipConfig fast(String node) {
        return LeadershipConfig.defaults().withNodeId(node).withAddress(node + ":8080")
                .withPollInterval(Duration.ofMillis(100))
                .withTimings(Duration.ofMillis(300), Duration.ofSeconds(2), Duration.ofSeconds(2));
    }

    private static LeaderElection<RecordingTerm> elect(DataSource ds, String node) {
        return LeaderElection.start(ds, LOCK_KEY, fast(node), (epoch, fence) -> new RecordingTerm(epoch),
                Clock.systemUTC(), new SimpleMeterRegistry());
    }

    @Test
    void aSecondProcessStandsByAndTakesOverWithTheNextEpochWhenTheLeaderSessionEnds(TestDatabases databases) {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        List<LeadershipChange> heardByB = new CopyOnWriteArrayList<>();
        try (LeaderElection<RecordingTerm> a = elect(ds, "node-a")) {
            assertThat(a.role()).isEqualTo(Role.LEADER);
            assertThat(a.epoch()).isEqualTo(1);
            RecordingTerm termOfA = a.term().orElseThrow();
            try (LeaderElection<RecordingTerm> b = elect(ds, "node-b")) {
                b.addListener(heardByB::add);
                assertThat(b.role()).as("no crash, no error: it stands by").isEqualTo(Role.STANDBY);
                assertThat(b.term()).isEmpty();
                assertThat(LeaderElection.current(ds)).get().satisfies(info -> {
                    assertThat(info.epoch()).isEqualTo(1);
                    assertThat(info.leaderId()).isEqualTo("node-a");
                    assertThat(info.address()).contains("node-a:8080");
                });

                a.close();
                assertThat(termOfA.closed).isTrue();
                awaitUntil("the standby takes over", () -> b.role() == Role.LEADER);
                assertThat(b.epoch()).isEqualTo(2);
                assertThat(b.term().orElseThrow().epoch).isEqualTo(2);
                assertThat(LeaderElection.current(ds)).get().satisfies(info -> {
                    assertThat(info.epoch()).isEqualTo(2);
                    assertThat(info.address()).contains("node-b:8080");
                });
                awaitUntil("the listener hears the election", () -> heardByB.size() == 2);
                assertThat(heardByB).extracting(LeadershipChange::role, LeadershipChange::reason).containsExactly(
                        org.assertj.core.groups.Tuple.tuple(Role.STANDBY, LeadershipChange.Reason.CURRENT),
                        org.assertj.core.groups.Tuple.tuple(Role.LEADER, LeadershipChange.Reason.ELECTED));
            }
        }
    }

    @Test
    void aLeaderWhoseLockSessionIsKilledStepsDownAndTheStandbyTakesOver(TestDatabases databases)
            throws SQLException {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        try (LeaderElection<RecordingTerm> a = elect(ds, "node-a");
             LeaderElection<RecordingTerm> b = elect(ds, "node-b")) {
            List<LeadershipChange> heardByA = new CopyOnWriteArrayList<>();
            a.addListener(heardByA::add);
            RecordingTerm termOfA = a.term().orElseThrow();
            terminateLockSessionOf(ds, a);
            awaitUntil("the standby takes over", () -> b.role() == Role.LEADER);
            awaitUntil("the old leader steps down", () -> a.role() == Role.STANDBY && termOfA.closed);
            awaitUntil("the old leader reports why", () -> heardByA.stream()
                    .anyMatch(c -> c.reason() == LeadershipChange.Reason.LOCK_SESSION_LOST));
            assertThat(b.epoch()).isEqualTo(2);
        }
    }

    /**
     * A database that cannot make a commit durable for a while (here every synchronous commit waits
     * for a synchronous standby that does not exist: as when the disk stalls behind a large write)
     * must not depose the only leader: its heartbeat waits for no WAL flush.
     */
    @Test
    void aLeaderWhoseDatabaseCannotFlushForSeveralHeartbeatTimeoutsKeepsItsLead(TestDatabases databases)
            throws Exception {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        try (LeaderElection<RecordingTerm> a = elect(ds, "node-a")) {
            List<LeadershipChange> heard = new CopyOnWriteArrayList<>();
            a.addListener(heard::add);
            assertThat(a.role()).isEqualTo(Role.LEADER);
            RecordingTerm term = a.term().orElseThrow();
            synchronousStandby(ds, "absent_standby");
            try {
                assertThat(durableCommitWaits(ds)).as("durable commits wait now").isTrue();
                // Heartbeats go on arriving (visible at once, durable or not) for three heartbeat timeouts.
                Instant until = heartbeatAt(ds).plus(fast("node-a").heartbeatTimeout().multipliedBy(3));
                awaitUntil("heartbeats for three heartbeat timeouts", () -> heartbeatAt(ds).isAfter(until));
                assertThat(a.role()).isEqualTo(Role.LEADER);
                assertThat(a.epoch()).isEqualTo(1);
                assertThat(term.closed).isFalse();
                assertThat(heard).noneMatch(c -> c.role() == Role.STANDBY);
            } finally {
                synchronousStandby(ds, null);
            }
        }
    }

    /**
     * Sets (or with null resets) the server's synchronous standby names, reloads its configuration
     * and waits until a new session sees it.
     */
    private static void synchronousStandby(DataSource ds, String names) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            s.execute(names == null ? "ALTER SYSTEM RESET synchronous_standby_names"
                    : "ALTER SYSTEM SET synchronous_standby_names = '" + names + "'");
            s.execute("SELECT pg_reload_conf()");
        }
        String expected = names == null ? "" : names;
        awaitUntil("the server applies synchronous_standby_names", () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT current_setting('synchronous_standby_names')")) {
                rs.next();
                return expected.equals(rs.getString(1));
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The leadership row's last heartbeat. */
    private static Instant heartbeatAt(DataSource ds) {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT heartbeat_at FROM leadership WHERE id = 1")) {
            rs.next();
            return rs.getTimestamp(1).toInstant();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether a durable commit of a one-row write is still waiting after half a second. */
    private static boolean durableCommitWaits(DataSource ds) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            s.execute("SET synchronous_commit = on");
            s.setQueryTimeout(1);
            long started = System.nanoTime();
            s.execute("CREATE TEMP TABLE durable_probe (x int); INSERT INTO durable_probe VALUES (1)");
            return System.nanoTime() - started > TimeUnit.MILLISECONDS.toNanos(500);
        }
    }

    /**
     * A refused write reports STANDBY at once; from that moment the term is no longer handed out,
     * even though the election thread closes it a little later (a caller that saw STANDBY must not
     * still reach the deposed leader's ledger).
     */
    @Test
    void aFencedLeaderHandsOutNoTermOnceItReportsStandby(TestDatabases databases) throws SQLException {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        List<WriteFence> fences = new CopyOnWriteArrayList<>();
        try (LeaderElection<RecordingTerm> a = LeaderElection.start(ds, LOCK_KEY, fast("node-a"), (epoch, fence) -> {
            fences.add(fence);
            return new RecordingTerm(epoch);
        }, Clock.systemUTC(), new SimpleMeterRegistry())) {
            assertThat(a.term()).isPresent();
            takeOverByHand(ds);
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                assertThatThrownBy(() -> fences.getFirst().check(c)).isInstanceOf(FencedException.class);
                c.rollback();
            }
            assertThat(a.role()).isEqualTo(Role.STANDBY);
            assertThat(a.term()).as("no term once STANDBY is reported").isEmpty();
        }
    }

    @Test
    void aTermThatFailsToStartGivesTheLockBackAndTheStandbyTriesAgain(TestDatabases databases) {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        java.util.concurrent.atomic.AtomicInteger starts = new java.util.concurrent.atomic.AtomicInteger();
        List<LeadershipChange> heardByB = new CopyOnWriteArrayList<>();
        try (LeaderElection<RecordingTerm> a = elect(ds, "node-a");
             LeaderElection<RecordingTerm> b = LeaderElection.start(ds, LOCK_KEY, fast("node-b"), (epoch, fence) -> {
                 if (starts.incrementAndGet() == 1) {
                     throw new IllegalStateException("the node cannot be reached");
                 }
                 return new RecordingTerm(epoch);
             }, Clock.systemUTC(), new SimpleMeterRegistry())) {
            b.addListener(heardByB::add);
            a.close();
            awaitUntil("the standby leads at its second try", () -> b.role() == Role.LEADER);
            assertThat(starts.get()).isEqualTo(2);
            assertThat(b.epoch()).as("the failed try consumed epoch 2").isEqualTo(3);
            awaitUntil("the listener heard the failed try and the election", () -> heardByB.size() == 3);
            assertThat(heardByB).extracting(LeadershipChange::reason).containsExactly(LeadershipChange.Reason.CURRENT,
                    LeadershipChange.Reason.TERM_FAILED, LeadershipChange.Reason.ELECTED);
        }
    }

    /** Attack: two processes race for the lead at start; exactly one leads, with one epoch. */
    @Test
    void twoProcessesRacingAtStartElectExactlyOneLeader(TestDatabases databases) throws Exception {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        CompletableFuture<LeaderElection<RecordingTerm>> first = CompletableFuture.supplyAsync(() -> elect(ds, "x"));
        CompletableFuture<LeaderElection<RecordingTerm>> second = CompletableFuture.supplyAsync(() -> elect(ds, "y"));
        try (LeaderElection<RecordingTerm> x = first.get(60, TimeUnit.SECONDS);
             LeaderElection<RecordingTerm> y = second.get(60, TimeUnit.SECONDS)) {
            assertThat(List.of(x.role(), y.role())).containsExactlyInAnyOrder(Role.LEADER, Role.STANDBY);
            assertThat(LeaderElection.current(ds).orElseThrow().epoch()).isEqualTo(1);
        }
    }

    /**
     * Attack (c): a deposed leader's writer, whose connection still works but whose lock is gone,
     * commits a group after another process took over. The epoch check in the group's own
     * transaction refuses it, and the writer refuses everything after it.
     */
    @Test
    void deposedLeadersLateGroupCommitIsRefusedByTheEpoch(TestDatabases databases) throws SQLException {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        long epoch = takeOverByHand(ds);
        List<Long> refused = new CopyOnWriteArrayList<>();
        try (Ledger deposed = Ledger.start(ds, LEDGER, Clock.systemUTC(), LedgerMetrics.none(),
                new EpochFence(epoch, refused::add))) {
            deposed.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
            assertThat(deposed.submit(deposit(1, ALICE, 100))).isEqualTo(TransferResult.OK);

            assertThat(takeOverByHand(ds)).as("another process takes over").isEqualTo(epoch + 1);

            TransferRequest late = TransferRequest.single(new TransferId(0x11B, 2), AccountKey.user(ALICE, USDC),
                    AccountKey.user(BOB, USDC), Amount.of(40));
            assertThatThrownBy(() -> deposed.submit(late)).isInstanceOf(LedgerException.class)
                    .hasRootCauseInstanceOf(FencedException.class);
            // The group commit is refused; the checkpointer beside the writer may be refused by the same fence too.
            assertThat(refused).isNotEmpty().containsOnly(epoch);
            assertThat(transfers(ds)).as("the late group left nothing").isEqualTo(1);
            assertThatThrownBy(() -> deposed.submit(deposit(3, BOB, 5)))
                    .as("a fenced writer refuses everything after").isInstanceOf(LedgerException.class);
            assertThat(transfers(ds)).isEqualTo(1);
        }
    }

    /** Attack: a deposed leader's settlement state change after a takeover is refused in its transaction. */
    @Test
    void deposedLeadersSettlementStateChangeIsRefusedByTheEpoch(TestDatabases databases) throws SQLException {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        long epoch = takeOverByHand(ds);
        try (Ledger ledger = Ledger.start(ds, LEDGER, Clock.systemUTC())) {
            PostgresSettlementStore deposed = new PostgresSettlementStore(ds, ledger,
                    new SettlementAddresses(ALICE, BOB), Clock.systemUTC(), new EpochFence(epoch, e -> { }));
            assertThat(deposed.backlog().count()).isZero();
            takeOverByHand(ds);
            assertThatThrownBy(deposed::backlog).isInstanceOf(FencedException.class);
            assertThatThrownBy(() -> deposed.release(7)).isInstanceOf(FencedException.class);
        }
    }

    /**
     * Attack: the deposed leader's write transaction passed the fence and then its connection went
     * half-open, so its server session holds the leadership row forever. The takeover waits
     * {@code takeoverLockTimeout}, terminates that session (its write never commits), and takes the
     * next epoch.
     */
    @Test
    void takeoverTerminatesADeposedLeadersOpenWriteThenTakesTheNextEpoch(TestDatabases databases)
            throws Exception {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        long epoch = takeOverByHand(ds);
        try (Connection stuck = ds.getConnection(); Statement s = stuck.createStatement()) {
            s.execute("CREATE TABLE fenced_writes (n INT)");
            stuck.setAutoCommit(false);
            s.execute("INSERT INTO fenced_writes VALUES (1)");
            new EpochFence(epoch, e -> { }).check(stuck);

            try (LeaderElection<RecordingTerm> next = elect(ds, "node-b")) {
                assertThat(next.role()).isEqualTo(Role.LEADER);
                assertThat(next.epoch()).isEqualTo(epoch + 1);
            }
            assertThatThrownBy(stuck::commit).isInstanceOf(SQLException.class);
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM fenced_writes")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    @Test
    void aFenceThatPassedHoldsTheTakeoverUntilItsTransactionEnds(TestDatabases databases) throws Exception {
        DataSource ds = databases.create();
        Migrations.migrate(ds);
        long epoch = takeOverByHand(ds);
        try (Connection writer = ds.getConnection(); Connection taker = ds.getConnection()) {
            writer.setAutoCommit(false);
            new EpochFence(epoch, e -> { }).check(writer);
            taker.setAutoCommit(false);
            try (Statement s = taker.createStatement()) {
                s.execute("SET LOCAL lock_timeout = 300");
                assertThatThrownBy(() -> s.executeQuery("SELECT epoch FROM leadership WHERE id = 1 FOR UPDATE"))
                        .as("the takeover waits for the write that passed the fence")
                        .isInstanceOf(SQLException.class).hasMessageContaining("lock timeout");
            }
            taker.rollback();
            writer.commit();
            try (Statement s = taker.createStatement()) {
                s.executeQuery("SELECT epoch FROM leadership WHERE id = 1 FOR UPDATE").close();
                s.executeUpdate("UPDATE leadership SET epoch = epoch + 1");
            }
            taker.commit();
            assertThatThrownBy(() -> new EpochFence(epoch, e -> { }).check(writer))
                    .isInstanceOf(FencedException.class);
            writer.rollback();
        }
    }

    private static TransferRequest deposit(long n, Address to, long units) {
        return TransferRequest.single(new TransferId(0x11B, n), AccountKey.custody(USDC), AccountKey.user(to, USDC),
                Amount.of(units));
    }

    /** Does what a takeover does to the row (lock, increment) and returns the new epoch. */
    private static long takeOverByHand(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT epoch FROM leadership WHERE id = 1 FOR UPDATE").close();
                try (ResultSet rs = s.executeQuery(
                        "UPDATE leadership SET epoch = epoch + 1, leader_id = 'by-hand' WHERE id = 1 RETURNING epoch")) {
                    rs.next();
                    long epoch = rs.getLong(1);
                    c.commit();
                    return epoch;
                }
            }
        }
    }

    private static long transfers(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM transfers")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void terminateLockSessionOf(DataSource ds, LeaderElection<?> leader) throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     SELECT pg_terminate_backend(pid) FROM pg_locks
                     WHERE locktype = 'advisory' AND granted
                       AND ((classid::bigint << 32) | objid::bigint) = ?""")) {
            s.setLong(1, LOCK_KEY);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).as("the leader's lock session holds the lock").isTrue();
                assertThat(rs.getBoolean(1)).isTrue();
            }
        }
        assertThat(leader.role()).isEqualTo(Role.LEADER);
    }
}
