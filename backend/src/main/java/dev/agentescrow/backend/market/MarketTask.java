package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A poster's task, allocated by a sealed-bid {@link ReverseVickreyAuction}: OPEN (bidding until
 * {@code biddingClosesAt}), then ALLOCATED (the poster's escrow to the winner holds
 * {@code escrowed = floor(clearingPrice * maxMultiplierBps / 10,000)}) or UNALLOCATED ({@code reason}:
 * NO_BIDS, INSUFFICIENT_FUNDS or the escrow's refusal code); then COMPLETED (the winner delivered)
 * and SCORED (paid by {@link PerformancePay}, the rest refunded). A failure reported from ALLOCATED
 * or COMPLETED makes it FAILURE_REPORTED; the winner's dispute within the window DISPUTED, the
 * arbiter's decision RESOLVED; undisputed after the window, or ALLOCATED past the late window
 * (a missed deadline), FAILED with the poster refunded.
 *
 * @param maxBasePrice {@code floor(budget * 10,000 / maxMultiplierBps)}: the highest bid accepted
 * @param workSeconds the time allowed for the work, from the allocation
 */
public record MarketTask(String id, Address poster, State state, List<String> capabilities, String description,
                         Address token, BigInteger budget, int maxMultiplierBps, BigInteger maxBasePrice,
                         Instant biddingClosesAt, long workSeconds, Instant createdAt, Instant closedAt, String reason,
                         Address winner, BigInteger clearingPrice, Boolean reserveApplied, BigInteger escrowed,
                         String escrowId, Instant completedAt, String resultRef, Instant scoredAt, Integer quality,
                         Integer accuracy, BigInteger payout, BigInteger refund, String breakdown, Address evaluator,
                         long disputeWindowSeconds, Failure failure, Closed closed, long position)
        implements MarketWork<MarketTask> {

    public enum State {
        OPEN, ALLOCATED, UNALLOCATED, COMPLETED, SCORED, FAILURE_REPORTED, DISPUTED, FAILED, RESOLVED, CLOSED;

        /** Whether nothing more happens to a task in this state. */
        public boolean isFinal() {
            return this == UNALLOCATED || this == SCORED || this == FAILED || this == RESOLVED || this == CLOSED;
        }
    }

    /** Why a failure happened: the poster's (or evaluator's) report, or the late window passing without a result. */
    public enum FailureReason { REPORTED, DEADLINE_MISSED }

    /**
     * A task's failure: when and why; for a report, the end of the winner's dispute window, and the
     * winner's dispute and the arbiter's decision once they happen.
     */
    public record Failure(Instant failedAt, FailureReason reason, String detail, Instant windowEnds,
                          Instant disputedAt, String disputeDetail, Instant decidedAt) {
        public Failure disputed(Instant now, String why) {
            return new Failure(failedAt, reason, detail, windowEnds, now, why, null);
        }

        public Failure decided(Instant now) {
            return new Failure(failedAt, reason, detail, windowEnds, disputedAt, disputeDetail, now);
        }
    }

    /**
     * How a CLOSED task's escrow ended by the escrow's own rules rather than a marketplace step, and
     * when the task learnt it (docs/marketplace.md, "When the escrow ends on its own terms").
     */
    public record Closed(EscrowClosure.How how, Instant at) {
    }

    /** A sealed bid: the bidder's base price, shown to others only once the window has closed. */
    /** The most bids a task takes: the allocation ranks them all (a reputation read each) under the task's lock. */
    public static final int MAX_BIDS = 1_000;

    public record Bid(String taskId, Address bidder, BigInteger ask, long sequence, Instant createdAt) {
    }

    public MarketTask {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        capabilities = List.copyOf(capabilities);
    }

    /** The maximum base price of a budget under a largest multiplier: {@code floor(budget * 10,000 / max)}. */
    public static BigInteger maxBasePrice(BigInteger budget, int maxMultiplierBps) {
        return budget.multiply(BigInteger.valueOf(PerformancePay.BPS)).divide(BigInteger.valueOf(maxMultiplierBps));
    }

    public boolean biddingClosed(Instant now) {
        return !now.isBefore(biddingClosesAt);
    }

    /** The allocated task: the winner, the clearing price and the funded escrow, as of {@code now}. */
    public MarketTask allocated(Instant now, Address winnerAddress, BigInteger price, boolean reserve,
                                BigInteger escrowedAmount, String escrow) {
        return new MarketTask(id, poster, State.ALLOCATED, capabilities, description, token, budget, maxMultiplierBps,
                maxBasePrice, biddingClosesAt, workSeconds, createdAt, now, null, winnerAddress, price, reserve,
                escrowedAmount, escrow, null, null, null, null, null, null, null, null, evaluator,
                disputeWindowSeconds, null, null, position);
    }

    /** The task closed without a winner, as of {@code now}, for {@code why}. */
    public MarketTask unallocated(Instant now, String why) {
        return new MarketTask(id, poster, State.UNALLOCATED, capabilities, description, token, budget,
                maxMultiplierBps, maxBasePrice, biddingClosesAt, workSeconds, createdAt, now, why, null, null, null,
                null, null, null, null, null, null, null, null, null, null, evaluator, disputeWindowSeconds, null,
                null, position);
    }

    /** The winner delivered {@code ref} at {@code now}; only from ALLOCATED. */
    public MarketTask completed(Instant now, String ref) {
        if (state != State.ALLOCATED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return new MarketTask(id, poster, State.COMPLETED, capabilities, description, token, budget, maxMultiplierBps,
                maxBasePrice, biddingClosesAt, workSeconds, createdAt, closedAt, null, winner, clearingPrice,
                reserveApplied, escrowed, escrowId, now, ref, null, null, null, null, null, null, evaluator,
                disputeWindowSeconds, null, null, position);
    }

    /** The poster scored the result at {@code now}; only from COMPLETED. */
    public MarketTask scored(Instant now, int qualityScore, int accuracyScore, PerformancePay.Breakdown pay,
                             String breakdownJson) {
        if (state != State.COMPLETED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return new MarketTask(id, poster, State.SCORED, capabilities, description, token, budget, maxMultiplierBps,
                maxBasePrice, biddingClosesAt, workSeconds, createdAt, closedAt, null, winner, clearingPrice,
                reserveApplied, escrowed, escrowId, completedAt, resultRef, now, qualityScore, accuracyScore,
                pay.payout(), pay.refund(), breakdownJson, evaluator, disputeWindowSeconds, null, null, position);
    }

    /** The poster (or the evaluator) reported a failure at {@code now}; only from ALLOCATED or COMPLETED. */
    @Override
    public MarketTask failureReported(Instant now, String detail) {
        if (state != State.ALLOCATED && state != State.COMPLETED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return with(State.FAILURE_REPORTED, null, null, new Failure(now, FailureReason.REPORTED, detail,
                now.plusSeconds(disputeWindowSeconds), null, null, null));
    }

    /** The winner disputed the reported failure at {@code now}; only from FAILURE_REPORTED. */
    @Override
    public MarketTask disputed(Instant now, String detail) {
        if (state != State.FAILURE_REPORTED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return with(State.DISPUTED, null, null, failure.disputed(now, detail));
    }

    /**
     * The task failed and the poster was refunded everything: an undisputed report whose window
     * ended, or (from ALLOCATED) the late window passed without a result.
     */
    @Override
    public MarketTask failed(Instant now) {
        if (state == State.FAILURE_REPORTED) {
            return with(State.FAILED, BigInteger.ZERO, escrowed, failure);
        }
        if (state != State.ALLOCATED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return with(State.FAILED, BigInteger.ZERO, escrowed, new Failure(now, FailureReason.DEADLINE_MISSED,
                "no result by " + lateDeadline(), null, null, null, null));
    }

    /** The arbiter decided the dispute at {@code now}: {@code toWinner} to the winner, the rest back; only from DISPUTED. */
    @Override
    public MarketTask resolved(Instant now, BigInteger toWinner) {
        if (state != State.DISPUTED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return with(State.RESOLVED, toWinner, escrowed.subtract(toWinner), failure.decided(now));
    }

    @Override
    public MarketTask closed(EscrowClosure.Closure c, Instant now) {
        if (state.isFinal() || state == State.OPEN) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return new MarketTask(id, poster, State.CLOSED, capabilities, description, token, budget, maxMultiplierBps,
                maxBasePrice, biddingClosesAt, workSeconds, createdAt, closedAt, null, winner, clearingPrice,
                reserveApplied, escrowed, escrowId, completedAt, resultRef, scoredAt, quality, accuracy, c.payout(),
                c.refund(), breakdown, evaluator, disputeWindowSeconds, failure,
                new Closed(c.how(), now.truncatedTo(java.time.temporal.ChronoUnit.MICROS)), position);
    }

    @Override
    public Phase phase() {
        return switch (state) {
            case OPEN, UNALLOCATED -> Phase.UNASSIGNED;
            case ALLOCATED -> Phase.RUNNING;
            case COMPLETED -> Phase.DELIVERED;
            default -> Phase.valueOf(state.name());
        };
    }

    @Override
    public Address payer() {
        return poster;
    }

    @Override
    public Address worker() {
        return winner;
    }

    @Override
    public BigInteger base() {
        return clearingPrice;
    }

    private MarketTask with(State to, BigInteger paid, BigInteger refunded, Failure f) {
        return new MarketTask(id, poster, to, capabilities, description, token, budget, maxMultiplierBps,
                maxBasePrice, biddingClosesAt, workSeconds, createdAt, closedAt, null, winner, clearingPrice,
                reserveApplied, escrowed, escrowId, completedAt, resultRef, scoredAt, quality, accuracy, paid,
                refunded, breakdown, evaluator, disputeWindowSeconds, f, closed, position);
    }

    /** Who scores the result or reports a failure: the evaluator the task names, else the poster. */
    public Address rater() {
        return evaluator != null ? evaluator : poster;
    }

    /**
     * The end of the late window (the escrow's deadline): the allocation plus twice the time for the
     * work. A task with no result by then has failed (no dispute window). Null before the allocation.
     */
    public Instant lateDeadline() {
        return closedAt == null || winner == null ? null : closedAt.plusSeconds(2 * workSeconds);
    }

    /** Whether a result delivered at {@code completedAt} was late (after the work's deadline). */
    public boolean deliveredLate() {
        return completedAt != null && completedAt.isAfter(workDeadline());
    }

    /** The work's deadline: the allocation plus the allowed time (null before the allocation). */
    public Instant workDeadline() {
        return closedAt == null || winner == null ? null : closedAt.plusSeconds(workSeconds);
    }

    /** The service's own timestamps: from the allocation (and its escrow) to the delivery. */
    public Duration elapsed() {
        return Duration.between(closedAt, completedAt);
    }

    public Duration allowed() {
        return Duration.ofSeconds(workSeconds);
    }
}
