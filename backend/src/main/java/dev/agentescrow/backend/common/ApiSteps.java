package dev.agentescrow.backend.common;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Where a write's time goes inside the service: one timer {@value #NAME} per step of the hot path
 * ({@code idempotency-claim}, {@code daily-reservation}, {@code ledger}, {@code idempotency-response}),
 * so that {@code scripts/bench-api} (and an operator) can split a request's server time into its
 * database statements and the ledger's group commit.
 */
public final class ApiSteps {
    public static final String NAME = "agentescrow.api.step";

    private ApiSteps() {
    }

    public static Timer timer(MeterRegistry registry, String step) {
        return Timer.builder(NAME).tag("step", step).description("time of one step of an API write")
                .register(registry);
    }
}
