package dev.agentescrow.backend.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The retention's settings: a day at least, an interval above zero (a misconfiguration stops the start). */
class EventsPropertiesTest {
    @Test
    void a_retention_under_a_day_or_an_interval_not_above_zero_is_refused() {
        assertThat(properties(Duration.ofDays(1), Duration.ofSeconds(1)).retention()).isEqualTo(Duration.ofDays(1));
        assertThatThrownBy(() -> properties(Duration.ofHours(23), Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention must be at least a day");
        assertThatThrownBy(() -> properties(Duration.ofDays(-30), Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention must be at least a day");
        assertThatThrownBy(() -> properties(Duration.ofDays(30), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention-interval must be positive");
        assertThatThrownBy(() -> properties(Duration.ofDays(30), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention-interval must be positive");
    }

    private static EventsProperties properties(Duration retention, Duration interval) {
        return new EventsProperties(Duration.ofMillis(500), Duration.ofSeconds(1), false, Duration.ofSeconds(10),
                Duration.ofHours(4), 20, 8, Duration.ofSeconds(5), Duration.ofSeconds(10), 10, Duration.ofSeconds(15),
                Duration.ofMinutes(30), 500, 5, retention, interval);
    }
}
