package dev.agentescrow.batcher.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.ChainException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatcherSchedulerTest {

    @Test
    void runsEveryStepRepeatedlyNeverTwoAtOnceAndSurvivesFailures() throws InterruptedException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CountDownLatch ticks = new CountDownLatch(5);
        CountDownLatch failures = new CountDownLatch(3);
        AtomicBoolean running = new AtomicBoolean();
        AtomicInteger overlaps = new AtomicInteger();
        Runnable guarded = () -> {
            if (!running.compareAndSet(false, true)) {
                overlaps.incrementAndGet();
            }
            running.set(false);
        };

        try (BatcherScheduler scheduler = BatcherScheduler.start(List.of(
                new BatcherScheduler.Step("tick", Duration.ofMillis(5), () -> {
                    guarded.run();
                    ticks.countDown();
                }),
                new BatcherScheduler.Step("reconcile", Duration.ofMillis(5), () -> {
                    guarded.run();
                    failures.countDown();
                    throw new ChainException("node unreachable");
                })), registry)) {
            assertThat(ticks.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(failures.await(10, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(overlaps).hasValue(0);
        assertThat(registry.counter("batcher.steps", "step", "tick", "result", "ok").count()).isGreaterThanOrEqualTo(5);
        assertThat(registry.counter("batcher.steps", "step", "reconcile", "result", "failed").count())
                .isGreaterThanOrEqualTo(3);
        assertThat(registry.counter("batcher.steps", "step", "reconcile", "result", "ok").count()).isZero();
    }

    @Test
    void onDemandWorkRunsBetweenStepsOnTheSchedulerThread() {
        AtomicBoolean stepRunning = new AtomicBoolean();
        AtomicInteger overlaps = new AtomicInteger();
        try (BatcherScheduler scheduler = BatcherScheduler.start(List.of(new BatcherScheduler.Step("tick",
                Duration.ofMillis(1), () -> {
                    stepRunning.set(true);
                    Thread.onSpinWait();
                    stepRunning.set(false);
                })), new SimpleMeterRegistry())) {
            for (int i = 0; i < 50; i++) {
                String thread = scheduler.runNow(() -> {
                    if (stepRunning.get()) {
                        overlaps.incrementAndGet();
                    }
                    return Thread.currentThread().getName();
                });
                assertThat(thread).isEqualTo("batcher-scheduler");
            }
            assertThatThrownBy(() -> scheduler.runNow(() -> {
                throw new ChainException("node unreachable");
            })).isInstanceOf(ChainException.class).hasMessage("node unreachable");
        }
        assertThat(overlaps).hasValue(0);
    }

    @Test
    void noStepRunsAfterClose() throws InterruptedException {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(1);
        BatcherScheduler scheduler = BatcherScheduler.start(List.of(new BatcherScheduler.Step("tick",
                Duration.ofMillis(1), () -> {
                    runs.incrementAndGet();
                    started.countDown();
                })), new SimpleMeterRegistry());
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        scheduler.close();
        int afterClose = runs.get();
        CountDownLatch never = new CountDownLatch(1);
        assertThat(never.await(50, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(runs.get()).isEqualTo(afterClose);
    }

    @Test
    void rejectsAStepWithoutAPositiveDelay() {
        assertThatThrownBy(() -> new BatcherScheduler.Step("tick", Duration.ZERO, () -> { }))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void F6_reconcilerRunsOnItsOwnThreadAndNeverBlocksIndexOrSettle() throws InterruptedException {
        CountDownLatch reconcileStarted = new CountDownLatch(1);
        CountDownLatch releaseReconcile = new CountDownLatch(1);
        CountDownLatch settlesWhileReconciling = new CountDownLatch(20);
        java.util.concurrent.atomic.AtomicReference<String> reconcileThread =
                new java.util.concurrent.atomic.AtomicReference<>();
        try (BatcherScheduler scheduler = BatcherScheduler.start(List.of(
                new BatcherScheduler.Step("settle", Duration.ofMillis(1), () -> {
                    if (reconcileStarted.getCount() == 0) {
                        settlesWhileReconciling.countDown();
                    }
                }),
                new BatcherScheduler.Step("reconcile", Duration.ofMillis(1), () -> {
                    reconcileThread.set(Thread.currentThread().getName());
                    reconcileStarted.countDown();
                    try {
                        releaseReconcile.await(10, TimeUnit.SECONDS);   // a slow RPC read
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "reconcile")), new SimpleMeterRegistry())) {
            assertThat(reconcileStarted.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(settlesWhileReconciling.await(5, TimeUnit.SECONDS))
                    .as("settle keeps running while the reconciler is blocked").isTrue();
            assertThat(scheduler.runNow(() -> Thread.currentThread().getName())).isEqualTo("batcher-scheduler");
            releaseReconcile.countDown();
            assertThat(scheduler.runNow("reconcile", () -> Thread.currentThread().getName()))
                    .isEqualTo(reconcileThread.get()).isEqualTo("batcher-scheduler-reconcile");
        }
    }
}
