package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A service an agent offers: what it can do (capability tags), its price per request or per named
 * unit in one token, and the longest it takes; with its record from real outcomes.
 *
 * @param unit null: the price is per request; else per unit of this name (a request names how many)
 * @param scoredRequests requests delivered and scored; {@code successfulRequests} of them on time with quality >= 100
 * @param qualitySum the sum of their quality scores (the rating is its mean)
 */
public record ServiceListing(String id, Address provider, State state, List<String> capabilities, String description,
                             Address token, BigInteger price, String unit, long maxDeliverySeconds,
                             long totalRequests, long scoredRequests, long successfulRequests, long qualitySum,
                             Instant createdAt, Instant updatedAt, long position) {

    public enum State { ACTIVE, WITHDRAWN }

    public ServiceListing {
        Objects.requireNonNull(id, "id");
        capabilities = List.copyOf(capabilities);
    }

    /** The service with new terms (its token, record and creation stay), as of {@code now}. */
    public ServiceListing withTerms(List<String> newCapabilities, String newDescription, BigInteger newPrice,
                                    String newUnit, long newMaxDeliverySeconds, Instant now) {
        return new ServiceListing(id, provider, state, newCapabilities, newDescription, token, newPrice, newUnit,
                newMaxDeliverySeconds, totalRequests, scoredRequests, successfulRequests, qualitySum, createdAt, now,
                position);
    }

    /** The service withdrawn as of {@code now}. */
    public ServiceListing withdrawn(Instant now) {
        return new ServiceListing(id, provider, State.WITHDRAWN, capabilities, description, token, price, unit,
                maxDeliverySeconds, totalRequests, scoredRequests, successfulRequests, qualitySum, createdAt, now,
                position);
    }

    /** The cost of a request for {@code units}: the price, times the units for a per-unit service. */
    public BigInteger cost(long units) {
        return unit == null ? price : price.multiply(BigInteger.valueOf(units));
    }

    /** The mean quality score of scored requests, floored to whole points; null before the first. */
    public Long rating() {
        return scoredRequests == 0 ? null : qualitySum / scoredRequests;
    }

    /** Successful / scored, in basis points; null before the first scored request. */
    public Long successRateBps() {
        return scoredRequests == 0 ? null : successfulRequests * 10_000 / scoredRequests;
    }
}
