package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;

/**
 * What a task and a direct request share once a worker holds its escrow: the failure report, the
 * worker's dispute, the arbiter's decision, the end of the escrow (docs/marketplace.md, "Failures,
 * the worker's dispute and the arbiter"). {@link MarketFailures} runs those steps once for both.
 *
 * @param <W> the record itself (each step returns the record after it)
 */
public interface MarketWork<W extends MarketWork<W>> {
    /** Where the work is, in the terms the failure flow needs. */
    enum Phase {
        /** No worker (an open or unallocated task). */
        UNASSIGNED,
        /** A worker holds the escrow and has not delivered. */
        RUNNING,
        /** The worker delivered; not scored yet. */
        DELIVERED,
        SCORED, FAILURE_REPORTED, DISPUTED, FAILED, RESOLVED, CLOSED;

        /** Whether nothing more happens to the work. */
        public boolean isFinal() {
            return this == SCORED || this == FAILED || this == RESOLVED || this == CLOSED;
        }
    }

    String id();

    Phase phase();

    /** Who pays: the task's poster, the request's consumer. */
    Address payer();

    /** Who works: the task's winner, the request's provider (null before a task's allocation). */
    Address worker();

    /** Who scores or reports failure: the evaluator if named, else the payer. */
    Address rater();

    Address evaluator();

    Address token();

    String escrowId();

    BigInteger escrowed();

    /** The base price performance pay scales: a task's clearing price, a request's cost. */
    BigInteger base();

    /** The reported failure or missed deadline, its dispute and decision; null while there is none. */
    MarketTask.Failure failure();

    /** How the escrow ended by its own rules, for a CLOSED one; else null. */
    MarketTask.Closed closed();

    BigInteger payout();

    BigInteger refund();

    /** The payer (or evaluator) reported a failure at {@code now}; only while RUNNING or DELIVERED. */
    W failureReported(Instant now, String detail);

    /** The worker disputed the reported failure at {@code now}; only from FAILURE_REPORTED. */
    W disputed(Instant now, String detail);

    /**
     * Failed with the payer refunded everything: a reported failure undisputed in its window, or
     * (from RUNNING) the late window passed without a result.
     */
    W failed(Instant now);

    /** The arbiter decided the dispute at {@code now}: {@code toWorker} to the worker, the rest back; only from DISPUTED. */
    W resolved(Instant now, BigInteger toWorker);

    /** CLOSED: the escrow ended by its own rules ({@code c}); only while running. */
    W closed(EscrowClosure.Closure c, Instant now);

    /**
     * The work after its escrow ended by the escrow's own rules ({@code c}: how, what the worker was
     * paid gross, what went back), from a running phase: a refund after the late window of work
     * never delivered is its missed deadline (FAILED); a reported failure refunded whole stands
     * (FAILED); the arbiter's split of a disputed failure is its decision (RESOLVED); anything else
     * is CLOSED with how the escrow ended and its amounts.
     */
    default W settledBy(EscrowClosure.Closure c, Instant now) {
        Phase p = phase();
        if (p.isFinal() || p == Phase.UNASSIGNED) {
            throw new IllegalStateException(id() + " is " + p);
        }
        if (p == Phase.RUNNING && c.how() == EscrowClosure.How.EXPIRED) {
            return failed(now);
        }
        if (p == Phase.FAILURE_REPORTED && c.payout().signum() == 0) {
            return failed(now);
        }
        if (p == Phase.DISPUTED && c.how() == EscrowClosure.How.ARBITER) {
            return resolved(now, c.payout());
        }
        return closed(c, now);
    }
}
