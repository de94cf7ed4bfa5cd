package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A consumer's request to a service, funded by a ledger escrow from the consumer to the provider:
 * ESCROWED (the escrow holds {@code escrowed}), COMPLETED (the provider delivered a result
 * reference), SCORED (the consumer scored it; the escrow paid {@code payout} to the provider and
 * refunded {@code refund}), or CLOSED (the escrow ended by its own rules: {@code closed} says how,
 * {@code payout} and {@code refund} what it paid).
 *
 * @param base the cost from the service's price and the units
 * @param escrowed {@code floor(base * maxMultiplierBps / 10,000)}: the most performance pay can reach
 * @param breakdown the {@link PerformancePay.Breakdown} as JSON, once scored
 */
public record ServiceRequest(String id, String serviceId, Address consumer, Address provider, State state,
                             Address token, long units, String input, BigInteger base, int maxMultiplierBps,
                             BigInteger escrowed, String escrowId, long maxDeliverySeconds, Instant createdAt,
                             Instant completedAt, String resultRef, Instant scoredAt, Integer quality, Integer accuracy,
                             BigInteger payout, BigInteger refund, String breakdown, Address evaluator,
                             MarketTask.Closed closed, long position) {

    public enum State {
        ESCROWED, COMPLETED, SCORED, CLOSED;

        /** Whether nothing more happens to a request in this state. */
        public boolean isFinal() {
            return this == SCORED || this == CLOSED;
        }
    }

    public ServiceRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
    }

    /** The request delivered at {@code now} with {@code ref}; only from ESCROWED. */
    public ServiceRequest completed(Instant now, String ref) {
        if (state != State.ESCROWED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return new ServiceRequest(id, serviceId, consumer, provider, State.COMPLETED, token, units, input, base,
                maxMultiplierBps, escrowed, escrowId, maxDeliverySeconds, createdAt, now, ref, null, null, null, null,
                null, null, evaluator, null, position);
    }

    /** The request scored at {@code now}, with the payout's breakdown (as JSON); only from COMPLETED. */
    public ServiceRequest scored(Instant now, int qualityScore, int accuracyScore, PerformancePay.Breakdown pay,
                                 String breakdownJson) {
        if (state != State.COMPLETED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return new ServiceRequest(id, serviceId, consumer, provider, State.SCORED, token, units, input, base,
                maxMultiplierBps, escrowed, escrowId, maxDeliverySeconds, createdAt, completedAt, resultRef, now,
                qualityScore, accuracyScore, pay.payout(), pay.refund(), breakdownJson, evaluator, null, position);
    }

    /**
     * The request after its escrow ended by the escrow's own rules rather than a scoring (never
     * delivered and refunded after the late window, delivered and never scored, or a party acting
     * through the escrow API): CLOSED with how the escrow ended and what it paid; only while running.
     */
    public ServiceRequest settledBy(EscrowClosure.Closure c, Instant now) {
        if (state.isFinal()) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return new ServiceRequest(id, serviceId, consumer, provider, State.CLOSED, token, units, input, base,
                maxMultiplierBps, escrowed, escrowId, maxDeliverySeconds, createdAt, completedAt, resultRef, scoredAt,
                quality, accuracy, c.payout(), c.refund(), breakdown, evaluator, new MarketTask.Closed(c.how(),
                now.truncatedTo(java.time.temporal.ChronoUnit.MICROS)),
                position);
    }

    /** The service's own timestamps: from the request (and its escrow) to the delivery. */
    public Duration elapsed() {
        return Duration.between(createdAt, completedAt);
    }

    /** The allowed time. */
    public Duration allowed() {
        return Duration.ofSeconds(maxDeliverySeconds);
    }

    /** Whether {@code who} may see the request: its consumer, its provider or its evaluator. */
    public boolean isParty(Address who) {
        return consumer.equals(who) || provider.equals(who) || who.equals(evaluator);
    }

    /** Who scores the result: the evaluator the request names, else the consumer. */
    public Address rater() {
        return evaluator != null ? evaluator : consumer;
    }
}
