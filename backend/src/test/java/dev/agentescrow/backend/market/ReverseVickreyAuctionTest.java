package dev.agentescrow.backend.market;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.backend.market.ReverseVickreyAuction.Allocation;
import dev.agentescrow.backend.market.ReverseVickreyAuction.Bid;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The ranking, the price, the reserve and tie rules; and (seeded random bid sets) bounds and truthfulness. */
class ReverseVickreyAuctionTest {
    private static final BigInteger MAX = BigInteger.valueOf(1_000);

    private static Bid bid(String who, long ask, int discount, long seq) {
        return new Bid(who, BigInteger.valueOf(ask), discount, seq);
    }

    @Test
    void no_bid_no_allocation() {
        assertThat(ReverseVickreyAuction.allocate(List.of(), MAX)).isEmpty();
    }

    @Test
    void a_single_bid_is_paid_the_reserve_the_maximum_base_price() {
        Allocation a = ReverseVickreyAuction.allocate(List.of(bid("a", 300, 500, 1)), MAX).orElseThrow();
        assertThat(a.price()).isEqualTo(MAX);
        assertThat(a.reserveApplied()).isTrue();
    }

    @Test
    void the_lowest_ask_wins_and_is_paid_the_runner_up_ask() {
        Allocation a = ReverseVickreyAuction.allocate(List.of(bid("a", 700, 0, 1), bid("b", 400, 0, 2),
                bid("c", 550, 0, 3)), MAX).orElseThrow();
        assertThat(a.winner().bidder()).isEqualTo("b");
        assertThat(a.runnerUp().orElseThrow().bidder()).isEqualTo("c");
        assertThat(a.price()).isEqualTo(BigInteger.valueOf(550));
    }

    @Test
    void reputation_discounts_the_score_and_the_price_translates_back() {
        // a: 500 * 9,000 = 4,500,000 beats b: 480 * 10,000 = 4,800,000; price floor(4,800,000 / 9,000) = 533
        Allocation a = ReverseVickreyAuction.allocate(List.of(bid("a", 500, 1_000, 1), bid("b", 480, 0, 2)), MAX)
                .orElseThrow();
        assertThat(a.winner().bidder()).isEqualTo("a");
        assertThat(a.price()).isEqualTo(BigInteger.valueOf(533));
    }

    @Test
    void a_tie_goes_to_the_earlier_bid_and_the_price_is_the_common_ask() {
        Allocation a = ReverseVickreyAuction.allocate(List.of(bid("z", 400, 0, 2), bid("y", 400, 0, 1)), MAX)
                .orElseThrow();
        assertThat(a.winner().bidder()).isEqualTo("y");
        assertThat(a.price()).isEqualTo(BigInteger.valueOf(400));
    }

    @Test
    void refuses_a_bid_above_the_maximum_or_not_positive() {
        assertThatThrownBy(() -> ReverseVickreyAuction.allocate(List.of(bid("a", 1_001, 0, 1)), MAX))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ReverseVickreyAuction.allocate(List.of(bid("a", 0, 0, 1)), MAX))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static List<Bid> randomBids(Random random, BigInteger max, boolean weighted) {
        int n = 1 + random.nextInt(6);
        List<Bid> bids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long ask = 1 + (long) random.nextInt(max.intValueExact());
            bids.add(bid("agent" + i, ask, weighted ? random.nextInt(1_001) : 0, i));
        }
        return bids;
    }

    /** Property: the winner is never paid below its ask nor above the maximum, and it ranks first. */
    @Test
    void the_price_lies_between_the_ask_and_the_maximum() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 20_000; i++) {
            BigInteger max = BigInteger.valueOf(1 + random.nextInt(random.nextBoolean() ? 10 : 100_000));
            List<Bid> bids = randomBids(random, max, true);
            Allocation a = ReverseVickreyAuction.allocate(bids, max).orElseThrow();
            String replay = "seed " + seed + " case " + i + " " + bids;
            assertThat(a.price()).as(replay).isGreaterThanOrEqualTo(a.winner().ask()).isLessThanOrEqualTo(max);
            for (Bid other : bids) {
                assertThat(a.winner().score()).as(replay).isLessThanOrEqualTo(other.score());
            }
            // at the price the winner would still not score above the runner-up
            a.runnerUp().ifPresent(r -> assertThat(a.price().multiply(BigInteger.valueOf(a.winner().weight())))
                    .as(replay).isLessThanOrEqualTo(r.score().max(a.winner().score())));
        }
    }

    /** Property (unweighted): no bidder gains by reporting any other ask than its true cost. */
    @Test
    void no_bidder_gains_by_misreporting_in_the_unweighted_case() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 5_000; i++) {
            BigInteger max = BigInteger.valueOf(1 + random.nextInt(random.nextBoolean() ? 8 : 500));
            List<Bid> truthful = randomBids(random, max, false);
            int liar = random.nextInt(truthful.size());
            BigInteger cost = truthful.get(liar).ask();
            BigInteger honest = utility(truthful, liar, cost, max);
            for (int k = 0; k < 8; k++) {
                long lie = 1 + (long) random.nextInt(max.intValueExact());
                List<Bid> lied = new ArrayList<>(truthful);
                Bid own = truthful.get(liar);
                lied.set(liar, new Bid(own.bidder(), BigInteger.valueOf(lie), 0, own.sequence()));
                assertThat(utility(lied, liar, cost, max)).as("seed " + seed + " case " + i + " lie " + lie + " in "
                        + truthful).isLessThanOrEqualTo(honest);
            }
        }
    }

    private static BigInteger utility(List<Bid> bids, int who, BigInteger cost, BigInteger max) {
        Optional<Allocation> a = ReverseVickreyAuction.allocate(bids, max);
        return a.filter(x -> x.winner().bidder().equals(bids.get(who).bidder()))
                .map(x -> x.price().subtract(cost)).orElse(BigInteger.ZERO);
    }
}
