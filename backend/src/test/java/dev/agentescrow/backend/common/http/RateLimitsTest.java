package dev.agentescrow.backend.common.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class RateLimitsTest {

    @Test
    void a_burst_past_the_limit_is_refused_with_the_seconds_to_wait() {
        RateLimits limits = new RateLimits(3);
        for (int i = 0; i < 3; i++) {
            assertThat(limits.tryAcquire("0xabc")).isEmpty();
        }
        OptionalLong wait = limits.tryAcquire("0xabc");
        assertThat(wait).isPresent();
        assertThat(wait.getAsLong()).isEqualTo(1);
    }

    @Test
    void each_key_has_its_own_bucket() {
        RateLimits limits = new RateLimits(1);
        assertThat(limits.tryAcquire("ip:10.0.0.1")).isEmpty();
        assertThat(limits.tryAcquire("ip:10.0.0.1")).isPresent();
        assertThat(limits.tryAcquire("ip:10.0.0.2")).isEmpty();
    }
}
