package dev.agentescrow.batcher.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Issue 10, F6: an on-demand or scheduled reconciliation skips a SUBMITTED batch instead of judging it. */
class ReconcileGuardTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    private static final ReconciliationReport RAN = new ReconciliationReport(CLOCK.instant(), List.of());

    @Test
    void F6_onDemandRunSkipsASubmittedBatchAndReportsItInFlight() {
        AtomicInteger runs = new AtomicInteger();
        ReconciliationReport report = ReconcileGuard.run(() -> OptionalLong.of(7), () -> "7:SUBMITTED", () -> {
            runs.incrementAndGet();
            return RAN;
        }, CLOCK);

        assertThat(runs).hasValue(0);
        assertThat(report.isSkipped()).isTrue();
        assertThat(report.inFlightBatch()).hasValue(7);
        assertThat(report.clean()).as("a skipped run is never clean").isFalse();
        assertThat(report.mismatches()).isEmpty();
    }

    @Test
    void F6_aBatchSentDuringTheRunMakesItSkippedNotAMismatch() {
        AtomicLong state = new AtomicLong();
        AtomicLong inFlight = new AtomicLong(-1);
        ReconciliationReport report = ReconcileGuard.run(
                () -> inFlight.get() < 0 ? OptionalLong.empty() : OptionalLong.of(inFlight.get()),
                state::get, () -> {
                    state.incrementAndGet();   // settlement, on its own lane, sends batch 8 meanwhile
                    inFlight.set(8);
                    return RAN;
                }, CLOCK);

        assertThat(report.isSkipped()).isTrue();
        assertThat(report.inFlightBatch()).hasValue(8);
    }

    @Test
    void F6_withNoBatchInFlightTheRunIsReported() {
        ReconciliationReport report = ReconcileGuard.run(OptionalLong::empty, () -> "idle", () -> RAN, CLOCK);

        assertThat(report).isSameAs(RAN);
        assertThat(report.isSkipped()).isFalse();
        assertThat(report.clean()).isTrue();
    }
}
