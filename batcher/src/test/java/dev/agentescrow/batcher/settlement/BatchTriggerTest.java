package dev.agentescrow.batcher.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.settlement.BatchTrigger.Decision;
import dev.agentescrow.batcher.settlement.BatchTrigger.Reason;
import dev.agentescrow.batcher.testing.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class BatchTriggerTest {
    private static final Instant T0 = Instant.parse("2026-11-22T12:00:00Z");

    @Test
    void defaultsAreAHundredMovementsOrFiveMinutes() {
        BatchTrigger trigger = BatchTrigger.withDefaults(Clock.fixed(T0, ZoneOffset.UTC));

        assertThat(trigger.maxTransfers()).isEqualTo(100);
        assertThat(trigger.maxDelay()).isEqualTo(Duration.ofSeconds(300));
    }

    @Test
    void anEmptyBacklogIsIdleAndChecksAgainAfterTheDelay() {
        BatchTrigger trigger = BatchTrigger.withDefaults(Clock.fixed(T0, ZoneOffset.UTC));

        Decision decision = trigger.check(UnsettledBacklog.EMPTY);

        assertThat(decision).isEqualTo(new Decision(Reason.IDLE, T0.plusSeconds(300)));
        assertThat(decision.due()).isFalse();
    }

    @Test
    void aFewYoungMovementsWaitUntilTheOldestIsOverdue() {
        MutableClock clock = new MutableClock(T0);
        BatchTrigger trigger = BatchTrigger.withDefaults(clock);
        UnsettledBacklog backlog = UnsettledBacklog.of(99, T0.minusSeconds(100));

        assertThat(trigger.check(backlog)).isEqualTo(new Decision(Reason.WAITING, T0.plusSeconds(200)));

        clock.advance(Duration.ofSeconds(199));
        assertThat(trigger.check(backlog).due()).isFalse();

        clock.advance(Duration.ofSeconds(1));
        assertThat(trigger.check(backlog)).isEqualTo(new Decision(Reason.OVERDUE, T0.plusSeconds(200)));
        assertThat(trigger.check(backlog).due()).isTrue();
    }

    @Test
    void reachingTheCountIsDueAtOnce() {
        BatchTrigger trigger = new BatchTrigger(10, Duration.ofMinutes(1), Clock.fixed(T0, ZoneOffset.UTC));

        assertThat(trigger.check(UnsettledBacklog.of(9, T0))).isEqualTo(new Decision(Reason.WAITING, T0.plusSeconds(60)));
        assertThat(trigger.check(UnsettledBacklog.of(10, T0))).isEqualTo(new Decision(Reason.FULL, T0));
        assertThat(trigger.check(UnsettledBacklog.of(5_000, T0)).due()).isTrue();
    }

    @Test
    void countWinsOverDelayWhenBothHold() {
        BatchTrigger trigger = new BatchTrigger(10, Duration.ofMinutes(1), Clock.fixed(T0, ZoneOffset.UTC));

        assertThat(trigger.check(UnsettledBacklog.of(10, T0.minusSeconds(3_600))).reason()).isEqualTo(Reason.FULL);
    }

    @Test
    void aMovementStampedAheadOfTheClockIsNotDueEarly() {
        BatchTrigger trigger = BatchTrigger.withDefaults(Clock.fixed(T0, ZoneOffset.UTC));

        assertThat(trigger.check(UnsettledBacklog.of(1, T0.plusSeconds(5))))
                .isEqualTo(new Decision(Reason.WAITING, T0.plusSeconds(305)));
    }

    @Test
    void invalidSettingsAndBacklogsAreRejected() {
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        assertThatThrownBy(() -> new BatchTrigger(0, Duration.ofSeconds(1), clock)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BatchTrigger(1, Duration.ZERO, clock)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UnsettledBacklog(1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UnsettledBacklog(0, T0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new UnsettledBacklog(-1, T0)).isInstanceOf(IllegalArgumentException.class);
    }
}
