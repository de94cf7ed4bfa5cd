package dev.agentescrow.batcher.runtime;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the batcher's periodic steps (index deposits, tick the submitter, expire holds, reconcile)
 * each at its own fixed delay. Steps run on the thread of their lane ({@link #MAIN} unless a step
 * names another): no two steps of one lane ever run at once, and a slow lane (the reconciler's, with
 * its RPC reads) never delays another (index and settle; issue 10, F6). A step that
 * throws is logged and counted, and runs again at its next turn: one failing RPC never stops the
 * schedule. Meter: {@code batcher.steps} (counter, tags {@code step} and {@code result} = ok or
 * failed).
 */
public final class BatcherScheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatcherScheduler.class);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    /** The lane of index, settle and expire, and of on-demand work unless another lane is named. */
    public static final String MAIN = "main";

    /**
     * One periodic step: its name, the delay between the end of one run and the next, the work,
     * and the lane (thread) it runs on.
     */
    public record Step(String name, Duration delay, Runnable work, String lane) {
        public Step(String name, Duration delay, Runnable work) {
            this(name, delay, work, MAIN);
        }

        public Step {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(work, "work");
            Objects.requireNonNull(lane, "lane");
            if (delay == null || delay.isNegative() || delay.isZero()) {
                throw new IllegalArgumentException("step " + name + " needs a positive delay");
            }
        }
    }

    private final Map<String, ScheduledExecutorService> lanes;

    private BatcherScheduler(Map<String, ScheduledExecutorService> lanes) {
        this.lanes = lanes;
    }

    /** Starts running {@code steps}, each first at once and then after its delay. */
    public static BatcherScheduler start(List<Step> steps, MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        Map<String, ScheduledExecutorService> lanes = new LinkedHashMap<>();
        lanes.put(MAIN, lane(MAIN));
        for (Step step : List.copyOf(steps)) {
            ScheduledExecutorService executor = lanes.computeIfAbsent(step.lane(), BatcherScheduler::lane);
            Counter ok = registry.counter("batcher.steps", "step", step.name(), "result", "ok");
            Counter failed = registry.counter("batcher.steps", "step", step.name(), "result", "failed");
            executor.scheduleWithFixedDelay(() -> run(step, ok, failed), 0, step.delay().toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        return new BatcherScheduler(lanes);
    }

    private static ScheduledExecutorService lane(String name) {
        String thread = MAIN.equals(name) ? "batcher-scheduler" : "batcher-scheduler-" + name;
        return Executors.newSingleThreadScheduledExecutor(
                runnable -> Thread.ofPlatform().name(thread).daemon(true).unstarted(runnable));
    }

    private static void run(Step step, Counter ok, Counter failed) {
        try {
            step.work().run();
            ok.increment();
        } catch (RuntimeException e) {
            failed.increment();
            log.error("batcher step {} failed; it runs again in its next turn", step.name(), e);
        }
    }

    /**
     * Runs {@code work} once on the scheduler's thread, between steps, and waits for its result:
     * on-demand work (a reconciliation, say) never overlaps a step.
     *
     * @throws java.util.concurrent.RejectedExecutionException once the scheduler is closed
     */
    public <T> T runNow(Callable<T> work) {
        return runNow(MAIN, work);
    }

    /** Runs {@code work} once on the thread of {@code lane}, between that lane's steps, and waits for it. */
    public <T> T runNow(String lane, Callable<T> work) {
        ScheduledExecutorService executor = lanes.get(lane);
        if (executor == null) {
            throw new IllegalArgumentException("no lane " + lane);
        }
        Future<T> future = executor.submit(work);
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for on-demand work", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("on-demand work failed", e.getCause());
        }
    }

    /** Lets the step in progress finish, then stops; no step starts after this returns. */
    @Override
    public void close() {
        lanes.values().forEach(ScheduledExecutorService::shutdown);
        for (ScheduledExecutorService executor : lanes.values()) {
            try {
                if (!executor.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                lanes.values().forEach(ScheduledExecutorService::shutdownNow);
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
