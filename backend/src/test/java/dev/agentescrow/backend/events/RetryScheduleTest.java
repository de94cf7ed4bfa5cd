package dev.agentescrow.backend.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryScheduleTest {
    private static final RetrySchedule DEFAULTS = new RetrySchedule(Duration.ofSeconds(10), Duration.ofHours(4), 20);

    @Test
    void the_default_schedule_retries_for_more_than_a_day_even_with_the_shortest_jitter() {
        assertThat(DEFAULTS.shortestSpan()).isGreaterThan(Duration.ofDays(1));
        assertThat(DEFAULTS.shortestSpan()).isLessThan(Duration.ofDays(2));
    }

    @Test
    void waits_double_up_to_the_cap_and_jitter_only_lengthens_by_at_most_a_quarter() {
        assertThat(DEFAULTS.baseDelayAfter(1)).isEqualTo(Duration.ofSeconds(10));
        assertThat(DEFAULTS.baseDelayAfter(2)).isEqualTo(Duration.ofSeconds(20));
        assertThat(DEFAULTS.baseDelayAfter(5)).isEqualTo(Duration.ofSeconds(160));
        assertThat(DEFAULTS.baseDelayAfter(19)).isEqualTo(Duration.ofHours(4));
        assertThat(DEFAULTS.baseDelayAfter(60)).isEqualTo(Duration.ofHours(4));
        assertThat(DEFAULTS.delayAfter(3, () -> 0.0)).isEqualTo(Duration.ofSeconds(40));
        assertThat(DEFAULTS.delayAfter(3, () -> 0.999)).isBetween(Duration.ofSeconds(49), Duration.ofSeconds(50));
        assertThat(DEFAULTS.exhausted(19)).isFalse();
        assertThat(DEFAULTS.exhausted(20)).isTrue();
    }
}
