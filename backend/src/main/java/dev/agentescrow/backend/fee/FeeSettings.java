package dev.agentescrow.backend.fee;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Fee settings, bound from {@code agentescrow.fees.*} (docs/fees.md).
 *
 * @param platformBps the platform fee's default, basis points (application.yml binds it to
 *                    {@code agentescrow.escrow.fee-bps}, {@code ESCROW_FEE_BPS})
 * @param protocolBps the protocol fee's default, basis points ({@code PROTOCOL_FEE_BPS}; 0 by default)
 * @param period      how long a distribution period runs before the leader's schedule distributes it
 * @param checkInterval how often the leader looks whether a period is due (or a planned one unpaid)
 * @param maxStakeholders how many active stakeholders there may be at once
 */
@ConfigurationProperties("agentescrow.fees")
public record FeeSettings(
        @DefaultValue("100") int platformBps,
        @DefaultValue("0") int protocolBps,
        @DefaultValue("P1D") Duration period,
        @DefaultValue("PT1M") Duration checkInterval,
        @DefaultValue("50") int maxStakeholders) {

    public FeeSettings {
        new FeeRates(platformBps, protocolBps);
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("agentescrow.fees.period must be positive: " + period);
        }
        if (maxStakeholders < 1 || maxStakeholders > 200) {
            throw new IllegalArgumentException("agentescrow.fees.max-stakeholders must be in [1, 200]: " + maxStakeholders);
        }
    }

    public FeeRates defaults() {
        return new FeeRates(platformBps, protocolBps);
    }
}
