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
 * and SCORED (paid by {@link PerformancePay}, the rest refunded).
 *
 * @param maxBasePrice {@code floor(budget * 10,000 / maxMultiplierBps)}: the highest bid accepted
 * @param workSeconds the time allowed for the work, from the allocation
 */
public record MarketTask(String id, Address poster, State state, List<String> capabilities, String description,
                         Address token, BigInteger budget, int maxMultiplierBps, BigInteger maxBasePrice,
                         Instant biddingClosesAt, long workSeconds, Instant createdAt, Instant closedAt, String reason,
                         Address winner, BigInteger clearingPrice, Boolean reserveApplied, BigInteger escrowed,
                         String escrowId, Instant completedAt, String resultRef, Instant scoredAt, Integer quality,
                         Integer accuracy, BigInteger payout, BigInteger refund, String breakdown, long position) {

    public enum State { OPEN, ALLOCATED, UNALLOCATED, COMPLETED, SCORED }

    /** A sealed bid: the bidder's base price, shown to others only once the window has closed. */
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
                escrowedAmount, escrow, null, null, null, null, null, null, null, null, position);
    }

    /** The task closed without a winner, as of {@code now}, for {@code why}. */
    public MarketTask unallocated(Instant now, String why) {
        return new MarketTask(id, poster, State.UNALLOCATED, capabilities, description, token, budget,
                maxMultiplierBps, maxBasePrice, biddingClosesAt, workSeconds, createdAt, now, why, null, null, null,
                null, null, null, null, null, null, null, null, null, null, position);
    }

    /** The winner delivered {@code ref} at {@code now}; only from ALLOCATED. */
    public MarketTask completed(Instant now, String ref) {
        if (state != State.ALLOCATED) {
            throw new IllegalStateException("task " + id + " is " + state);
        }
        return new MarketTask(id, poster, State.COMPLETED, capabilities, description, token, budget, maxMultiplierBps,
                maxBasePrice, biddingClosesAt, workSeconds, createdAt, closedAt, null, winner, clearingPrice,
                reserveApplied, escrowed, escrowId, now, ref, null, null, null, null, null, null, position);
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
                pay.payout(), pay.refund(), breakdownJson, position);
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
