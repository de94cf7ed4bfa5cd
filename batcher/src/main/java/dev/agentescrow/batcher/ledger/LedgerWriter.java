package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.db.FencedException;
import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.db.ExistingTransfer;
import dev.agentescrow.batcher.ledger.db.LedgerStore;
import dev.agentescrow.batcher.support.FailPoints;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.util.PSQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's single writer. One thread drains the bounded queue into a group of at most
 * {@code maxGroupSize} transfers, validates and applies the group against the in-memory state it
 * owns, writes it in one database transaction with set-based statements, commits (synchronous
 * commit on) and only then completes the callers' futures. While a group commits, new
 * submissions pile up in the queue and form the next group: the busier the ledger, the larger
 * the groups and the cheaper each transfer.
 *
 * <p>If a commit fails, every future of the group fails with {@link LedgerException} and the
 * in-memory state is reloaded from the database, so nothing uncommitted survives in memory. A
 * PostgreSQL session advisory lock on the writer connection makes this the only writer; under a
 * {@link WriteFence} (a batcher's leadership) the fence replaces that lock: it holds the same lock
 * on a session of its own, and each group's transaction checks the fence just before it commits.
 * Once the fence refuses a group, this writer refuses everything after it.
 *
 * <p>Account rows are not written here: after a commit the writer hands the committed totals of
 * the accounts changed since its last hand-over to the {@link Checkpointer}, which writes them
 * beside it on another connection, so a checkpoint never stalls a group.
 */
final class LedgerWriter implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(LedgerWriter.class);

    private final DataSource dataSource;
    private final LedgerConfig config;
    private final Clock clock;
    private final WriteFence fence;
    private static final String DUPLICATE_KEY = "23505";
    /**
     * When the queue has been empty this long and account rows are behind, the writer hands them
     * to the checkpointer as soon as it is free: a read of the rows is then behind by at most
     * {@code checkpointEveryGroups} groups plus one checkpoint write under load, and by this delay
     * plus one checkpoint write when the ledger goes idle.
     */
    static final long IDLE_CHECKPOINT_MILLIS = 2;
    private static final String PK = "transfers_pkey";

    private final LedgerStore store = new LedgerStore();
    private final Checkpointer checkpointer;
    private final BlockingQueue<Command> queue;
    private final Thread thread;
    /**
     * Completes the callers' futures, so that no caller's callback runs on the writer thread (F5):
     * a callback that submits again and waits would otherwise wait for itself. One virtual thread
     * per completion, so a callback that blocks holds up nobody else.
     */
    private final ExecutorService completer = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean running = true;
    /** Set once the fence refused a commit: another process leads now, nothing more is written. */
    private volatile FencedException fenced;
    private Command carried;
    private Connection connection;
    private LedgerState state;

    LedgerWriter(DataSource dataSource, LedgerConfig config, Clock clock, WriteFence fence) {
        this.dataSource = dataSource;
        this.config = config;
        this.clock = clock;
        this.fence = fence;
        this.queue = new ArrayBlockingQueue<>(config.queueCapacity());
        this.thread = Thread.ofPlatform().name("ledger-writer").daemon(true).unstarted(this);
        this.checkpointer = new Checkpointer(dataSource, fence, clock, store);
    }

    /** Connects, takes the writer lock, loads the state and starts the writer thread. */
    void start() {
        try {
            connect();
        } catch (SQLException e) {
            closeConnection();
            throw new LedgerException("could not start the ledger writer", e);
        }
        checkpointer.start();
        thread.start();
    }

    void enqueue(Command command) {
        if (!running) {
            command.future().completeExceptionally(new LedgerException("ledger is closed"));
            return;
        }
        try {
            if (!queue.offer(command, config.enqueueTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                command.future().completeExceptionally(new LedgerException(
                        "ledger queue full (" + config.queueCapacity() + " submissions)"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            command.future().completeExceptionally(new LedgerException("interrupted while queueing", e));
        }
    }

    /** Checkpoints written so far (for tests and benchmarks). */
    long checkpointsWritten() {
        return checkpointer.written();
    }

    /** Submissions waiting for the writer thread. */
    int queueDepth() {
        return queue.size();
    }

    /** Stops after the group in progress; queued commands fail. */
    void stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failQueued(new LedgerException("ledger is closed"));
        checkpointer.stop();
        closeConnection();
        completer.shutdown();
    }

    @Override
    public void run() {
        while (running) {
            List<Command> group;
            try {
                group = nextGroup();
            } catch (InterruptedException e) {
                break;
            }
            if (group.isEmpty()) {
                handOff(true);
            } else {
                process(group);
            }
        }
        Thread.interrupted();
        if (state != null && fenced == null && !state.sinceCheckpoint.isEmpty()) {
            // Stopping: leave the account rows current for the readers of any instance.
            checkpointer.offer(state.sinceCheckpoint.stream().map(Account::toRow).toList(), state.nextSeq - 1);
            state.sinceCheckpoint.clear();
        }
    }

    /**
     * After a commit (or when idle): hands the totals of the accounts changed since the last
     * hand-over to the checkpointer, if it is free and the checkpoint is due (every
     * {@code checkpointEveryGroups} groups, {@code checkpointMaxAccounts} accounts, or idle).
     */
    private void handOff(boolean idle) {
        if (state == null || state.sinceCheckpoint.isEmpty() || !checkpointer.idle()) {
            return;
        }
        if (idle || state.groupsSinceCheckpoint >= config.checkpointEveryGroups()
                || state.sinceCheckpoint.size() >= config.checkpointMaxAccounts()) {
            checkpointer.offer(state.sinceCheckpoint.stream().map(Account::toRow).toList(), state.nextSeq - 1);
            state.sinceCheckpoint.clear();
            state.groupsSinceCheckpoint = 0;
        }
    }

    private List<Command> nextGroup() throws InterruptedException {
        List<Command> group = new ArrayList<>();
        Command first = carried;
        carried = null;
        if (first == null && state != null && !state.sinceCheckpoint.isEmpty()) {
            first = queue.poll(IDLE_CHECKPOINT_MILLIS, TimeUnit.MILLISECONDS);
            if (first == null) {
                return group;
            }
        }
        if (first == null) {
            first = queue.take();
        }
        group.add(first);
        int size = first.size();
        while (size < config.maxGroupSize()) {
            Command next = queue.poll();
            if (next == null) {
                break;
            }
            if (size + next.size() > config.maxGroupSize()) {
                carried = next;
                break;
            }
            group.add(next);
            size += next.size();
        }
        return group;
    }

    private void process(List<Command> commands) {
        if (fenced != null) {
            fail(commands, new LedgerException("ledger writer is fenced: another process leads", fenced));
            return;
        }
        try {
            if (state == null) {
                connect();
            }
            List<Runnable> completions;
            try {
                completions = attempt(commands, !optimistic(commands));
            } catch (DuplicateIdException e) {
                completions = attempt(commands, true);
            }
            if (!commands.isEmpty()) {
                FailPoints.reached("ledger.after-commit");
            }
            completions.forEach(this::complete);
            handOff(false);
        } catch (FencedException e) {
            LOG.error("ledger group of {} commands refused by the leadership fence; this writer stops writing",
                    commands.size(), e);
            fenced = e;
            state = null;
            fail(commands, new LedgerException("ledger commit refused: another process leads", e));
            failQueued(new LedgerException("ledger writer is fenced: another process leads", e));
        } catch (GroupWriteFailed e) {
            // One submission's rows broke the write (F3): nothing was written and the state is
            // undone; write the halves apart so that only the bad submission fails.
            if (commands.size() <= 1) {
                LOG.error("a submission could not be written; it alone fails", e);
                fail(commands, new LedgerException("ledger could not write this submission", e));
            } else {
                LOG.warn("a group of {} commands could not be written; writing its halves apart", commands.size(), e);
                int half = commands.size() / 2;
                process(commands.subList(0, half));
                process(commands.subList(half, commands.size()));
            }
        } catch (SQLException | RuntimeException e) {
            LOG.error("ledger group of {} commands failed; reloading state from the database", commands.size(), e);
            fail(commands, new LedgerException("ledger commit failed", e));
            reload();
        }
    }

    /** Fails the commands' futures off the writer thread (a caller's callback never runs on it). */
    private void fail(List<Command> commands, LedgerException failure) {
        for (Command command : commands) {
            complete(() -> command.future().completeExceptionally(failure));
        }
    }

    /** Runs a completion on its own virtual thread; after {@link #stop()} (writer outlived the join) inline. */
    private void complete(Runnable completion) {
        try {
            completer.execute(completion);
        } catch (RejectedExecutionException e) {
            completion.run();
        }
    }

    /** A duplicate key on the transfers' primary key, by constraint name (not by message text). */
    private static boolean isDuplicateTransferId(SQLException e) {
        if (!DUPLICATE_KEY.equals(e.getSQLState())) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PSQLException p && p.getServerErrorMessage() != null) {
                return PK.equals(p.getServerErrorMessage().getConstraint());
            }
        }
        return false;
    }

    /** SQL state class 08 (connection exception), or the connection is gone: nothing to isolate. */
    private boolean isConnectionFailure(SQLException e) {
        String state = e.getSQLState();
        if (state != null && state.startsWith("08")) {
            return true;
        }
        try {
            return connection.isClosed() || !connection.isValid(5);
        } catch (SQLException ignored) {
            return true;
        }
    }

    /** A group's write failed for a reason in its rows; the state is already undone. */
    private static final class GroupWriteFailed extends RuntimeException {
        GroupWriteFailed(SQLException cause) {
            super("writing the group failed: " + cause.getMessage(), cause);
        }
    }

    /**
     * Whether to skip looking up the group's ids first. Fresh ids are the normal case: the
     * primary key catches a reused id of an applied transfer at insert time, a lookup of just the
     * rejected ones catches a reused id of a rejected transfer, and in both cases the group is
     * undone in memory and redone with the full lookup. Token registrations have no undo, so
     * groups with one always look up first.
     */
    private static boolean optimistic(List<Command> commands) {
        return commands.stream().noneMatch(command -> command instanceof Command.RegisterToken);
    }

    /** Builds, writes and commits one group; returns the completions to run after the commit. */
    private List<Runnable> attempt(List<Command> commands, boolean lookUp) throws SQLException {
        List<Runnable> completions = new ArrayList<>(commands.size());
        Instant at = clock.instant();
        List<List<OpenPending>> expiries = new ArrayList<>();
        Set<TransferId> ids = new HashSet<>();
        Set<TransferId> closedPendings = new HashSet<>();
        for (Command command : commands) {
            switch (command) {
                case Command.Submit submit -> {
                    for (TransferRequest request : submit.requests()) {
                        ids.add(request.id());
                        if (request.pendingId() != null && !state.openPendings.containsKey(request.pendingId())) {
                            closedPendings.add(request.pendingId());
                        }
                    }
                }
                case Command.Expire expire -> expiries.add(Group.expiryCandidates(state, at, expire.limit()));
                case Command.RegisterToken ignored -> expiries.add(List.of());
            }
        }
        long t0 = System.nanoTime();
        Map<TransferId, ExistingTransfer> committed = lookUp ? store.findTransfers(connection, ids) : Map.of();
        Map<TransferId, TransferKind> resolutions = store.findResolutions(connection, closedPendings);
        Group group = new Group(state, at, config, lookUp, committed, resolutions);
        try {
            apply(group, commands, expiries, completions);
        } catch (DuplicateIdException e) {
            group.undoAll();
            throw e;
        }
        if (!lookUp && !group.rejectedIds().isEmpty()
                && !store.findTransfers(connection, group.rejectedIds()).isEmpty()) {
            // A rejected transfer may be a replay of a committed one (then EXISTS, not a rejection).
            group.undoAll();
            throw new DuplicateIdException();
        }
        long t1 = System.nanoTime();
        try {
            if (!group.isEmpty()) {
                store.write(connection, group.toWrite());
            }
        } catch (SQLException e) {
            connection.rollback();
            if (!lookUp && isDuplicateTransferId(e)) {
                group.undoAll();
                throw new DuplicateIdException();
            }
            if (isConnectionFailure(e)) {
                throw e;
            }
            // Something in this group's rows: undo it in memory so that its commands can be tried apart.
            group.undoAll();
            throw new GroupWriteFailed(e);
        }
        try {
            fence.check(connection);
        } catch (FencedException e) {
            connection.rollback();
            group.undoAll();
            throw e;
        }
        long t2 = System.nanoTime();
        connection.commit();
        long t3 = System.nanoTime();
        state.sinceCheckpoint.addAll(group.touched());
        state.groupsSinceCheckpoint++;
        if (LOG.isDebugEnabled()) {
            LOG.debug("group: {} commands, {} transfers; build {} us, write {} us, commit {} us",
                    commands.size(), group.transferCount(),
                    (t1 - t0) / 1_000, (t2 - t1) / 1_000, (t3 - t2) / 1_000);
        }
        return completions;
    }

    private static void apply(Group group, List<Command> commands, List<List<OpenPending>> expiries,
            List<Runnable> completions) {
        int expiryIndex = 0;
        for (Command command : commands) {
            switch (command) {
                case Command.Submit submit -> {
                    List<TransferReceipt> receipts = group.submit(submit.requests(), submit.system(), submit.audit());
                    completions.add(() -> submit.future().complete(receipts));
                }
                case Command.Expire expire -> {
                    int expired = group.expire(expiries.get(expiryIndex++));
                    completions.add(() -> expire.future().complete(expired));
                }
                case Command.RegisterToken register -> {
                    expiryIndex++;
                    TokenRegistration outcome = group.registerToken(register.token(), register.actor(),
                            register.reason());
                    completions.add(() -> register.future().complete(outcome));
                }
            }
        }
    }

    private void connect() throws SQLException {
        closeConnection();
        connection = dataSource.getConnection();
        connection.setAutoCommit(true);
        try (var statement = connection.createStatement()) {
            statement.execute("SET synchronous_commit = on");
        }
        if (fence == WriteFence.NONE && !store.tryLock(connection, config.advisoryLockKey())) {
            throw new SQLException("another process holds the ledger writer lock " + config.advisoryLockKey());
        }
        connection.setAutoCommit(false);
        LedgerState loaded = LedgerState.load(store, connection);
        // Loaded after the takeover committed (the fence's epoch is ours), so every commit of a
        // deposed writer is in it; a writer already deposed loads nothing it could act on.
        fence.check(connection);
        connection.commit();
        state = loaded;
    }

    /** After a failed commit: roll back, then reload (or reconnect and reload at the next group). */
    private void reload() {
        state = null;
        try {
            connection.rollback();
            state = LedgerState.load(store, connection);
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            LOG.error("could not reload the ledger state; will reconnect at the next group", e);
            state = null;
            closeConnection();
        }
    }

    private void closeConnection() {
        if (connection == null) {
            return;
        }
        try {
            // A pooled connection outlives close(): release the session lock explicitly.
            if (!connection.isClosed()) {
                if (!connection.getAutoCommit()) {
                    connection.rollback();
                    connection.setAutoCommit(true);
                }
                try (var statement = connection.createStatement()) {
                    statement.execute("SELECT pg_advisory_unlock_all()");
                }
            }
        } catch (SQLException e) {
            LOG.warn("releasing the writer lock failed (the session ends with the connection)", e);
        }
        try {
            connection.close();
        } catch (SQLException e) {
            LOG.warn("closing the writer connection failed", e);
        }
        connection = null;
    }

    private void failQueued(LedgerException failure) {
        if (carried != null) {
            carried.future().completeExceptionally(failure);
            carried = null;
        }
        Command command;
        while ((command = queue.poll()) != null) {
            command.future().completeExceptionally(failure);
        }
    }
}
