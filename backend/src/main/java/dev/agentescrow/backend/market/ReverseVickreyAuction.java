package dev.agentescrow.backend.market;

import java.math.BigInteger;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The reverse (procurement) second-price auction of a task (docs/marketplace.md).
 *
 * <p><b>Ranking.</b> Each bid's adjusted score is {@code ask * (10,000 - discountBps)}, where the
 * discount (0 to {@link #MAX_DISCOUNT_BPS}) comes from the bidder's reputation; the lowest score
 * ranks first. Scores are compared exactly (integer products, no division).
 *
 * <p><b>Ties</b> (equal adjusted scores): the earlier bid (lower {@code sequence}) ranks first, then
 * the lower bidder id. Sequences are the order in which the service stored the bids.
 *
 * <p><b>Price.</b> The winner is paid the highest base price at which its adjusted score would
 * still not exceed the runner-up's: {@code floor(runnerAsk * runnerWeight / winnerWeight)}, never
 * below its own ask and never above the maximum base price.
 *
 * <p><b>Reserve.</b> The maximum base price acts as a reserve bid of the buyer with no discount:
 * with a single bid the winner is paid the maximum base price (the price a second bid at the
 * maximum would set). Without it, a single bidder paid its own ask would gain by overstating it.
 *
 * <p><b>No bid, no allocation.</b> Bids above the maximum base price or not positive are refused
 * before they get here; passing one is a programming error.
 *
 * <p>Truthful in the unweighted case (all discounts zero): the price does not depend on the
 * winner's own ask, so no bidder gains by misreporting. With discounts the ranking trades price
 * for reputation and is a scoring auction, still second-price in the adjusted score.
 */
public final class ReverseVickreyAuction {
    public static final int BPS = 10_000;
    public static final int MAX_DISCOUNT_BPS = 1_000;

    private ReverseVickreyAuction() {
    }

    /**
     * A sealed bid.
     *
     * @param ask the base price the bidder asks, in base units, 1 to the maximum base price
     * @param discountBps the reputation discount of its score, 0 to {@link #MAX_DISCOUNT_BPS}
     * @param sequence the order in which the bid was stored (ties go to the lower)
     */
    public record Bid(String bidder, BigInteger ask, int discountBps, long sequence) {
        public Bid {
            Objects.requireNonNull(bidder, "bidder");
            Objects.requireNonNull(ask, "ask");
            if (discountBps < 0 || discountBps > MAX_DISCOUNT_BPS) {
                throw new IllegalArgumentException("a discount is 0 to " + MAX_DISCOUNT_BPS + " bps: " + discountBps);
            }
        }

        /** {@code 10,000 - discountBps}. */
        public long weight() {
            return BPS - discountBps;
        }

        /** The adjusted score: {@code ask * weight}; the lowest ranks first. */
        public BigInteger score() {
            return ask.multiply(BigInteger.valueOf(weight()));
        }
    }

    /**
     * The allocation: the winning bid, the runner-up (empty with a single bid: the reserve applied)
     * and the clearing base price.
     */
    public record Allocation(Bid winner, Optional<Bid> runnerUp, BigInteger price, boolean reserveApplied) {
    }

    /** The ranking order: lowest adjusted score, then earliest sequence, then lowest bidder id. */
    public static final Comparator<Bid> RANKING = Comparator.comparing(Bid::score)
            .thenComparingLong(Bid::sequence).thenComparing(Bid::bidder);

    /** Allocates among {@code bids} under {@code maxBasePrice}; empty when there is no bid. */
    public static Optional<Allocation> allocate(List<Bid> bids, BigInteger maxBasePrice) {
        if (maxBasePrice.signum() <= 0) {
            throw new IllegalArgumentException("the maximum base price is positive: " + maxBasePrice);
        }
        for (Bid bid : bids) {
            if (bid.ask().signum() <= 0 || bid.ask().compareTo(maxBasePrice) > 0) {
                throw new IllegalArgumentException("bid of " + bid.bidder() + " is outside 1.." + maxBasePrice);
            }
        }
        if (bids.isEmpty()) {
            return Optional.empty();
        }
        List<Bid> ranked = bids.stream().sorted(RANKING).toList();
        Bid winner = ranked.getFirst();
        Optional<Bid> runnerUp = ranked.size() > 1 ? Optional.of(ranked.get(1)) : Optional.empty();
        BigInteger price = runnerUp
                .map(r -> r.score().divide(BigInteger.valueOf(winner.weight())))
                .orElse(maxBasePrice)
                .min(maxBasePrice)
                .max(winner.ask());
        return Optional.of(new Allocation(winner, runnerUp, price, runnerUp.isEmpty()));
    }
}
