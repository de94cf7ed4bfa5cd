package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.db.FencedException;
import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.db.AccountRow;
import dev.agentescrow.batcher.ledger.db.LedgerStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes account checkpoints beside the ledger writer, on a connection of its own (issue 11, hot
 * path): the writer hands over the committed totals of the accounts it changed and the seq they
 * are exact at ({@link #offer}), and goes on with the next group while this thread rewrites those
 * rows of {@code accounts} and {@code ledger_checkpoint.seq} in one transaction. A checkpoint is
 * the exact state after its seq because the writer hands over only committed totals and every
 * account changed since the last written checkpoint: offers merge into the waiting snapshot (a
 * later total replaces an earlier one, the seq only grows), and a snapshot whose write failed is
 * merged back under anything offered since. The writer thus never waits for a checkpoint; before,
 * every {@code checkpointEveryGroups}-th group wrote up to all accounts inside its own commit.
 *
 * <p>Under a {@link WriteFence} the checkpoint transaction checks the fence before it commits, so
 * a deposed leader's checkpointer writes nothing once a new leader runs.
 */
final class Checkpointer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpointer.class);
    /** Wait before a failed checkpoint is tried again (merged with whatever came since). */
    static final long RETRY_MILLIS = 200;

    private final DataSource dataSource;
    private final WriteFence fence;
    private final Clock clock;
    private final LedgerStore store;
    private final Thread thread;
    private final Object lock = new Object();
    /** Guarded by {@code lock}: the snapshot waiting to be written, by account id. */
    private Map<Long, AccountRow> pending = new LinkedHashMap<>();
    /** Guarded by {@code lock}: the seq the waiting snapshot is exact at. */
    private long pendingSeq;
    /** Guarded by {@code lock}: a snapshot is being written. */
    private boolean writing;
    /** Guarded by {@code lock}. */
    private boolean running = true;
    private volatile boolean fenced;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writtenSeq = new AtomicLong();

    Checkpointer(DataSource dataSource, WriteFence fence, Clock clock, LedgerStore store) {
        this.dataSource = dataSource;
        this.fence = fence;
        this.clock = clock;
        this.store = store;
        this.thread = Thread.ofPlatform().name("ledger-checkpointer").daemon(true).unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Nothing waits and nothing is being written: an offer now is written at once. */
    boolean idle() {
        synchronized (lock) {
            return pending.isEmpty() && !writing;
        }
    }

    /** Hands over the committed totals of {@code accounts}, exact after transfer {@code seq}. */
    void offer(Collection<AccountRow> accounts, long seq) {
        if (accounts.isEmpty()) {
            return;
        }
        synchronized (lock) {
            for (AccountRow row : accounts) {
                pending.put(row.id(), row);
            }
            pendingSeq = Math.max(pendingSeq, seq);
            lock.notifyAll();
        }
    }

    /** Checkpoints written so far. */
    long written() {
        return written.get();
    }

    /** The seq of the last checkpoint written by this checkpointer (0 before the first). */
    long writtenSeq() {
        return writtenSeq.get();
    }

    /** Writes what waits (one attempt), then stops. */
    void stop() {
        synchronized (lock) {
            running = false;
            lock.notifyAll();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        while (true) {
            Map<Long, AccountRow> rows;
            long seq;
            boolean last;
            synchronized (lock) {
                while (pending.isEmpty() && running) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        running = false;
                    }
                }
                if (pending.isEmpty()) {
                    return;
                }
                last = !running;
                rows = pending;
                seq = pendingSeq;
                pending = new LinkedHashMap<>();
                writing = true;
            }
            boolean ok = write(rows, seq);
            synchronized (lock) {
                writing = false;
                if (!ok && !fenced) {
                    rows.forEach(pending::putIfAbsent);
                    pendingSeq = Math.max(pendingSeq, seq);
                }
                if (fenced || (!ok && last)) {
                    pending.clear();
                    return;
                }
                if (!ok) {
                    try {
                        lock.wait(RETRY_MILLIS);
                    } catch (InterruptedException e) {
                        running = false;
                    }
                }
            }
        }
    }

    private boolean write(Map<Long, AccountRow> rows, long seq) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                store.writeCheckpoint(c, rows.values(), seq, clock.instant());
                fence.check(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            written.incrementAndGet();
            writtenSeq.set(seq);
            return true;
        } catch (FencedException e) {
            LOG.error("checkpoint at seq {} refused by the leadership fence; this checkpointer stops writing", seq, e);
            fenced = true;
            return false;
        } catch (SQLException | RuntimeException e) {
            LOG.warn("checkpoint of {} accounts at seq {} failed; it is tried again with what comes next",
                    rows.size(), seq, e);
            return false;
        }
    }
}
