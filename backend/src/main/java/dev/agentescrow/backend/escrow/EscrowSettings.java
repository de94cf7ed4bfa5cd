package dev.agentescrow.backend.escrow;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Ledger escrows' settings, bound from {@code agentescrow.escrow.*}.
 *
 * @param feeBps the platform fee on releases to payees, basis points (at most 1,000 = 10 %), fixed per escrow at creation
 * @param arbiter the platform's arbiter, used when a create names none (blank: every create must name one)
 * @param defaultGrace the grace period after the deadline when a create gives none
 * @param defaultArbitration how long the arbiter has after a dispute when a create gives none
 * @param maxDuration how far ahead a deadline may be
 * @param sweepInterval how often the leader looks for escrows to expire or settle by fallback
 * @param expiryLag how long after anyone may refund (or apply the fallback) the service does it itself
 */
@ConfigurationProperties("agentescrow.escrow")
public record EscrowSettings(
        @DefaultValue("100") int feeBps,
        String arbiter,
        @DefaultValue("P1D") Duration defaultGrace,
        @DefaultValue("P7D") Duration defaultArbitration,
        @DefaultValue("P365D") Duration maxDuration,
        @DefaultValue("PT1S") Duration sweepInterval,
        @DefaultValue("PT2S") Duration expiryLag) {

    public static final int MAX_FEE_BPS = 1_000;
    public static final int MAX_PAYEES = 16;
    /** Grace and arbitration periods are at most this long. */
    public static final Duration MAX_PERIOD = Duration.ofDays(30);

    public EscrowSettings {
        if (feeBps < 0 || feeBps > MAX_FEE_BPS) {
            throw new IllegalArgumentException("agentescrow.escrow.fee-bps must be in [0, " + MAX_FEE_BPS + "]: " + feeBps);
        }
    }
}
