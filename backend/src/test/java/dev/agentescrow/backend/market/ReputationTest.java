package dev.agentescrow.backend.market;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Decay, counterparty weighting, self-trading, and (seeded random) the bonus stays within 0-1,000 bps. */
class ReputationTest {
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");

    private static Reputation.Outcome outcome(String consumer, long daysAgo, int quality, boolean late, long breadth) {
        return new Reputation.Outcome(consumer, NOW.minus(Duration.ofDays(daysAgo)), quality, late, breadth);
    }

    @Test
    void decay_halves_every_half_life_and_is_linear_between() {
        assertThat(Reputation.decayBps(Duration.ZERO)).isEqualTo(10_000);
        assertThat(Reputation.decayBps(Duration.ofDays(15))).isEqualTo(7_500);
        assertThat(Reputation.decayBps(Duration.ofDays(30))).isEqualTo(5_000);
        assertThat(Reputation.decayBps(Duration.ofDays(60))).isEqualTo(2_500);
        assertThat(Reputation.decayBps(Duration.ofDays(400))).isZero();
    }

    @Test
    void no_outcome_no_bonus() {
        assertThat(Reputation.of("p", List.of(), NOW)).isEqualTo(Reputation.Score.NONE);
    }

    @Test
    void ten_fresh_perfect_outcomes_from_broad_consumers_earn_the_full_bonus() {
        List<Reputation.Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            outcomes.add(outcome("c" + i, 0, 200, false, 10));
        }
        Reputation.Score score = Reputation.of("p", outcomes, NOW);
        assertThat(score.reputationBps()).isEqualTo(10_000);
        assertThat(score.confidenceBps()).isEqualTo(10_000);
        assertThat(score.bonusBps()).isEqualTo(1_000);
    }

    @Test
    void a_ring_of_fresh_addresses_earns_little_and_self_trading_nothing() {
        List<Reputation.Outcome> ring = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ring.add(outcome("fresh" + i, 0, 200, false, 0));
        }
        assertThat(Reputation.of("p", ring, NOW).bonusBps()).isEqualTo(50);
        List<Reputation.Outcome> self = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            self.add(outcome("P", 0, 200, false, 10));
        }
        assertThat(Reputation.of("p", self, NOW)).isEqualTo(new Reputation.Score(0, 0, 0, 0));
    }

    @Test
    void late_and_old_outcomes_weigh_less() {
        Reputation.Score late = Reputation.of("p", List.of(outcome("c", 0, 200, true, 10)), NOW);
        assertThat(late.reputationBps()).isEqualTo(5_000);
        Reputation.Score mixed = Reputation.of("p", List.of(outcome("c", 0, 200, false, 10),
                outcome("d", 60, 0, false, 10)), NOW);
        // weights 10,000 and 2,500: (10,000 * 10,000 + 2,500 * 0) / 12,500 = 8,000
        assertThat(mixed.reputationBps()).isEqualTo(8_000);
    }

    @Test
    void the_bonus_stays_between_0_and_1000_bps() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            List<Reputation.Outcome> outcomes = new ArrayList<>();
            int n = random.nextInt(600);
            for (int j = 0; j < n; j++) {
                outcomes.add(outcome("c" + random.nextInt(20), random.nextInt(500), random.nextInt(260) - 30,
                        random.nextBoolean(), random.nextInt(30)));
            }
            Reputation.Score score = Reputation.of("c0", outcomes, NOW);
            assertThat(score.bonusBps()).as("seed " + seed).isBetween(0, 1_000);
            assertThat(score.reputationBps()).as("seed " + seed).isBetween(0, 10_000);
            assertThat(score.confidenceBps()).as("seed " + seed).isBetween(0, 10_000);
        }
    }
}
