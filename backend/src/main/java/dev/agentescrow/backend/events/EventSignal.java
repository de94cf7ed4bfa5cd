package dev.agentescrow.backend.events;

import java.time.Duration;
import org.springframework.stereotype.Component;

/**
 * Wakes the in-process waiters early: the sequencer when this instance published an event, and
 * SSE streams when this instance sequenced some. Every waiter also wakes on its own interval, so
 * another instance's events arrive without a signal, only later.
 */
@Component
public class EventSignal {
    private final Object publishedLock = new Object();
    private final Object sequencedLock = new Object();
    private long publishedCount;
    private long sequencedCount;

    void published() {
        synchronized (publishedLock) {
            publishedCount++;
            publishedLock.notifyAll();
        }
    }

    void sequenced() {
        synchronized (sequencedLock) {
            sequencedCount++;
            sequencedLock.notifyAll();
        }
    }

    /** Waits until a publication after {@code seen} (a value this returned before) or {@code timeout}; returns the count. */
    long awaitPublished(long seen, Duration timeout) throws InterruptedException {
        return await(publishedLock, true, seen, timeout);
    }

    long publishedCount() {
        synchronized (publishedLock) {
            return publishedCount;
        }
    }

    /** Waits until a sequencing after {@code seen} or {@code timeout}; returns the count. */
    long awaitSequenced(long seen, Duration timeout) throws InterruptedException {
        return await(sequencedLock, false, seen, timeout);
    }

    long sequencedCount() {
        synchronized (sequencedLock) {
            return sequencedCount;
        }
    }

    private long await(Object lock, boolean published, long seen, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                long count = published ? publishedCount : sequencedCount;
                long left = deadline - System.nanoTime();
                if (count != seen || left <= 0) {
                    return count;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }
}
