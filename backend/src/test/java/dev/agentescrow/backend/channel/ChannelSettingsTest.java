package dev.agentescrow.backend.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The proof receipts' retention: a day at least, an interval above zero (a misconfiguration stops the start). */
class ChannelSettingsTest {
    @Test
    void a_receipt_retention_under_a_day_or_an_interval_not_above_zero_is_refused() {
        assertThat(settings(Duration.ofDays(1), Duration.ofSeconds(1)).proofReceiptRetention()).isEqualTo(Duration.ofDays(1));
        assertThatThrownBy(() -> settings(Duration.ofHours(23), Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("proof-receipt-retention must be at least a day");
        assertThatThrownBy(() -> settings(Duration.ofDays(-1), Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("proof-receipt-retention must be at least a day");
        assertThatThrownBy(() -> settings(Duration.ofDays(1), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention-interval must be positive");
    }

    private static ChannelSettings settings(Duration retention, Duration interval) {
        return new ChannelSettings(null, 0, Duration.ofSeconds(1), false, null, null, null, 4096, 1024, retention, interval);
    }
}
