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
 * refunded {@code refund}); or, with the tasks' rules ({@link MarketFailures}), FAILURE_REPORTED,
 * DISPUTED, FAILED, RESOLVED; or CLOSED (the escrow ended by its own rules: {@code closed} says how,
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
                             long disputeWindowSeconds, MarketTask.Failure failure, MarketTask.Closed closed,
                             long position) implements MarketWork<ServiceRequest> {

    public enum State {
        ESCROWED, COMPLETED, SCORED, FAILURE_REPORTED, DISPUTED, FAILED, RESOLVED, CLOSED;

        /** Whether nothing more happens to a request in this state. */
        public boolean isFinal() {
            return this == SCORED || this == FAILED || this == RESOLVED || this == CLOSED;
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
                null, null, evaluator, disputeWindowSeconds, null, null, position);
    }

    /** The request scored at {@code now}, with the payout's breakdown (as JSON); only from COMPLETED. */
    public ServiceRequest scored(Instant now, int qualityScore, int accuracyScore, PerformancePay.Breakdown pay,
                                 String breakdownJson) {
        if (state != State.COMPLETED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return new ServiceRequest(id, serviceId, consumer, provider, State.SCORED, token, units, input, base,
                maxMultiplierBps, escrowed, escrowId, maxDeliverySeconds, createdAt, completedAt, resultRef, now,
                qualityScore, accuracyScore, pay.payout(), pay.refund(), breakdownJson, evaluator, disputeWindowSeconds,
                null, null, position);
    }

    @Override
    public ServiceRequest failureReported(Instant now, String detail) {
        if (state != State.ESCROWED && state != State.COMPLETED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return with(State.FAILURE_REPORTED, null, null, new MarketTask.Failure(micros(now),
                MarketTask.FailureReason.REPORTED, detail, micros(now).plusSeconds(disputeWindowSeconds), null, null,
                null), null);
    }

    @Override
    public ServiceRequest disputed(Instant now, String detail) {
        if (state != State.FAILURE_REPORTED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return with(State.DISPUTED, null, null, failure.disputed(micros(now), detail), null);
    }

    @Override
    public ServiceRequest failed(Instant now) {
        if (state == State.FAILURE_REPORTED) {
            return with(State.FAILED, BigInteger.ZERO, escrowed, failure, null);
        }
        if (state != State.ESCROWED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return with(State.FAILED, BigInteger.ZERO, escrowed, new MarketTask.Failure(micros(now),
                MarketTask.FailureReason.DEADLINE_MISSED, "no result by " + lateDeadline(), null, null, null, null),
                null);
    }

    @Override
    public ServiceRequest resolved(Instant now, BigInteger toProvider) {
        if (state != State.DISPUTED) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return with(State.RESOLVED, toProvider, escrowed.subtract(toProvider), failure.decided(micros(now)), null);
    }

    /**
     * The request after its escrow ended by the escrow's own rules rather than a marketplace step
     * (delivered and never scored, a dispute never decided, a party acting through the escrow API):
     * CLOSED with how the escrow ended and what it paid; only while running.
     */
    @Override
    public ServiceRequest closed(EscrowClosure.Closure c, Instant now) {
        if (state.isFinal()) {
            throw new IllegalStateException("request " + id + " is " + state);
        }
        return with(State.CLOSED, c.payout(), c.refund(), failure, new MarketTask.Closed(c.how(), micros(now)));
    }

    private ServiceRequest with(State to, BigInteger paid, BigInteger refunded, MarketTask.Failure f,
                                MarketTask.Closed c) {
        return new ServiceRequest(id, serviceId, consumer, provider, to, token, units, input, base, maxMultiplierBps,
                escrowed, escrowId, maxDeliverySeconds, createdAt, completedAt, resultRef, scoredAt, quality, accuracy,
                paid, refunded, breakdown, evaluator, disputeWindowSeconds, f, c, position);
    }

    private static Instant micros(Instant now) {
        return now.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }

    /** The end of the late window (the escrow's deadline): twice the maximum delivery time from the request. */
    public Instant lateDeadline() {
        return createdAt.plusSeconds(2 * maxDeliverySeconds);
    }

    @Override
    public Phase phase() {
        return switch (state) {
            case ESCROWED -> Phase.RUNNING;
            case COMPLETED -> Phase.DELIVERED;
            default -> Phase.valueOf(state.name());
        };
    }

    @Override
    public Address payer() {
        return consumer;
    }

    @Override
    public Address worker() {
        return provider;
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

    /** Who scores the result or reports failure: the evaluator the request names, else the consumer. */
    @Override
    public Address rater() {
        return evaluator != null ? evaluator : consumer;
    }
}
