package dev.agentescrow.backend.market;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The marketplace's settings, bound from {@code agentescrow.market.*}.
 *
 * @param arbiter the arbiter of marketplace escrows; blank: the escrows' platform arbiter
 *                ({@code agentescrow.escrow.arbiter}); with neither, requests are refused (503 MARKET_NO_ARBITER)
 * @param suggestionSample how many recent scored requests of a capability the suggested price looks at
 */
@ConfigurationProperties("agentescrow.market")
public record MarketSettings(String arbiter, @DefaultValue("50") int suggestionSample) {
    public static final int MAX_CAPABILITIES = 16;
    public static final int MAX_DELIVERY_SECONDS = 30 * 24 * 3600;
    public static final long MAX_UNITS = 1_000_000_000L;

    public MarketSettings {
        if (suggestionSample < 1 || suggestionSample > 1_000) {
            throw new IllegalArgumentException("agentescrow.market.suggestion-sample must be in [1, 1000]: "
                    + suggestionSample);
        }
    }
}
