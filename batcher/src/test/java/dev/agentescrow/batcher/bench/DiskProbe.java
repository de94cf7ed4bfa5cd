package dev.agentescrow.batcher.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The disk's own durable-write latency, measured beside the load: a thread writes 8 KiB into a
 * small preallocated file in the database's folder and forces it to disk ({@code fdatasync}), once
 * every 10 ms, and keeps each flush's start and duration ({@link System#nanoTime()}).
 *
 * <p>Why: a transfer is acknowledged only after its group's commit is on disk, so no transfer can
 * be faster than the disk's flush at that moment. On the machines these benchmarks run on, a
 * flush stalls now and then for 100-800 ms with the machine otherwise idle, and every flush on
 * the device stalls with it (two such probes on different files stall at the same instants), so
 * the probe tells which transfers waited on the disk rather than on the ledger.
 */
final class DiskProbe implements AutoCloseable {
    private static final int BLOCK = 8192;
    private static final int BLOCKS = 16;
    private static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final Path file;
    private final Thread thread;
    private final List<long[]> samples = new ArrayList<>();
    private volatile boolean running = true;
    private volatile IOException failure;

    private DiskProbe(Path file) {
        this.file = file;
        this.thread = Thread.ofPlatform().name("disk-probe").daemon(true).start(this::probe);
    }

    /** Starts probing in {@code dir} (created if missing). */
    static DiskProbe start(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new DiskProbe(dir.resolve(".bench-disk-probe-" + ProcessHandle.current().pid()));
    }

    private void probe() {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
            for (int i = 0; i < BLOCKS; i++) {
                block.clear();
                channel.write(block, (long) i * BLOCK);
            }
            channel.force(true);
            for (int i = 0; running; i++) {
                block.clear();
                channel.write(block, (long) (i % BLOCKS) * BLOCK);
                long started = System.nanoTime();
                channel.force(false);
                long took = System.nanoTime() - started;
                synchronized (samples) {
                    samples.add(new long[] {started, took});
                }
                LockSupport.parkNanos(INTERVAL_NANOS);
            }
        } catch (IOException e) {
            failure = e;
        }
    }

    /** Stops the probe and deletes its file; its samples stay for {@link #report}. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            Files.deleteIfExists(file);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (failure != null) {
            throw new UncheckedIOException("the disk probe failed", failure);
        }
    }

    /**
     * What the probe saw in [from, to) (nanoTime), and the transfers of an open-loop load started
     * at {@code start} at {@code rate} per second ({@code latencies[i]} of the one scheduled at
     * {@code start + i / rate}; 0 if it never ended) that overlapped no stall (a flush slower than
     * {@code stallMillis}) and not the time after it in which the queue it built clears (taken
     * as long again): those show the ledger's own latency at that rate.
     */
    Report report(long from, long to, long start, int rate, long[] latencies, double stallMillis) {
        List<long[]> flushes;
        synchronized (samples) {
            flushes = List.copyOf(samples);
        }
        return report(flushes, from, to, start, rate, latencies, stallMillis);
    }

    /** {@link #report} of the flushes given, each {@code {start, duration}} in nanoseconds. */
    static Report report(List<long[]> flushes, long from, long to, long start, int rate, long[] latencies,
            double stallMillis) {
        long[][] window = flushes.stream().filter(s -> s[0] - from >= 0 && s[0] - to < 0).toArray(long[][]::new);
        long stallNanos = (long) (stallMillis * 1e6);
        List<long[]> stalls = new ArrayList<>();
        long stalled = 0;
        long[] durations = new long[window.length];
        for (int i = 0; i < window.length; i++) {
            durations[i] = window[i][1];
            if (window[i][1] > stallNanos) {
                // The stall, and as long again after it: the transfers that queued during it
                // clear in about that time more below the saturation rate.
                stalls.add(new long[] {window[i][0], window[i][0] + 2 * window[i][1]});
                stalled += window[i][1];
            }
        }
        Arrays.sort(durations);
        double intervalNanos = 1e9 / rate;
        long[] clear = new long[latencies.length];
        int cleared = 0;
        int ended = 0;
        for (int i = 0; i < latencies.length; i++) {
            if (latencies[i] <= 0) {
                continue;
            }
            ended++;
            long scheduled = start + (long) (i * intervalNanos);
            long done = scheduled + latencies[i];
            boolean overlaps = false;
            for (long[] stall : stalls) {
                if (scheduled - stall[1] < 0 && done - stall[0] > 0) {
                    overlaps = true;
                    break;
                }
            }
            if (!overlaps) {
                clear[cleared++] = latencies[i];
            }
        }
        long[] clearLatencies = Arrays.copyOf(clear, cleared);
        return new Report(window.length, LedgerBenchmark.percentileMs(durations, 0.50),
                LedgerBenchmark.percentileMs(durations, 0.99), LedgerBenchmark.percentileMs(durations, 1.0),
                stalls.size(), stalled / (double) Math.max(1, to - from), cleared, ended,
                LedgerBenchmark.percentileMs(clearLatencies, 0.99));
    }

    /**
     * @param stalledShare the share of the window's time spent in stalled flushes
     * @param clearP99Ms   the p99 of the transfers that overlapped no stall
     */
    record Report(int flushes, double p50Ms, double p99Ms, double maxMs, int stalls, double stalledShare,
                  int transfersClear, int transfersEnded, double clearP99Ms) {
    }
}
