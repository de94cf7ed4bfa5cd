package dev.agentescrow.backend.workflow;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;

/**
 * The marketplace auction of a workflow step that names no agent (docs/workflows.md, "Steps
 * allocated by auction"). Immutable; {@link WorkflowRules} derives the next version.
 *
 * @param budget the most the step pays, held up front for it (its share until allocated)
 * @param maxBasePrice the highest base price a bid may ask: the budget, or with performance pay
 *                     {@code floor(budget * 10,000 / maxMultiplierBps)}
 * @param biddingClosesAt bids are taken until this instant (exclusive), before the step's deadline
 * @param closedAt when the auction was closed (allocated, or closed without a bid); null while open
 * @param bids how many bids the step had when it closed; null while open (sealed)
 * @param price the winner's Vickrey base price; null until allocated
 * @param reserveApplied whether a single bid was paid the maximum base price; null until allocated
 * @param surplus what of the budget above the step's cost went back to the payer after the
 *                allocation (part {@code surplus:<i>}); null until refunded (0: nothing to refund)
 */
public record StepAuction(BigInteger budget, BigInteger maxBasePrice, Instant biddingClosesAt, Instant closedAt,
                          Integer bids, BigInteger price, Boolean reserveApplied, BigInteger surplus) {
    public StepAuction {
        Objects.requireNonNull(budget, "budget");
        Objects.requireNonNull(maxBasePrice, "maxBasePrice");
        Objects.requireNonNull(biddingClosesAt, "biddingClosesAt");
    }

    /** A new auction, open. */
    public static StepAuction open(BigInteger budget, BigInteger maxBasePrice, Instant biddingClosesAt) {
        return new StepAuction(budget, maxBasePrice, biddingClosesAt, null, null, null, null, null);
    }

    /** Whether bids are no longer taken at {@code now}. */
    public boolean biddingClosed(Instant now) {
        return !now.isBefore(biddingClosesAt);
    }

    public boolean isClosed() {
        return closedAt != null;
    }

    public boolean allocated() {
        return price != null;
    }

    /** The auction's state as shown: OPEN, ALLOCATED or NO_BIDS. */
    public String state() {
        return closedAt == null ? "OPEN" : price == null ? "NO_BIDS" : "ALLOCATED";
    }

    StepAuction won(Instant now, int bidCount, BigInteger clearingPrice, boolean reserve) {
        return new StepAuction(budget, maxBasePrice, biddingClosesAt, now, bidCount, clearingPrice, reserve, null);
    }

    StepAuction unsold(Instant now) {
        return new StepAuction(budget, maxBasePrice, biddingClosesAt, now, 0, null, null, null);
    }

    StepAuction withSurplus(BigInteger refunded) {
        return new StepAuction(budget, maxBasePrice, biddingClosesAt, closedAt, bids, price, reserveApplied, refunded);
    }
}
