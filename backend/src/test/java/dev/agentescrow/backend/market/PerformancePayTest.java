package dev.agentescrow.backend.market;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The multipliers, the one rounding rule, the clamp, and (over seeded random inputs) money conservation. */
class PerformancePayTest {
    private static final Duration ALLOWED = Duration.ofSeconds(100);

    private static PerformancePay.Scores scores(int quality, int accuracy, long elapsedSeconds, int bonus) {
        return new PerformancePay.Scores(quality, accuracy, Duration.ofSeconds(elapsedSeconds), ALLOWED, bonus);
    }

    @Test
    void quality_and_accuracy_are_clamped() {
        assertThat(PerformancePay.qualityBps(0)).isEqualTo(5_000);
        assertThat(PerformancePay.qualityBps(100)).isEqualTo(10_000);
        assertThat(PerformancePay.qualityBps(250)).isEqualTo(20_000);
        assertThat(PerformancePay.accuracyBps(-3)).isEqualTo(5_000);
        assertThat(PerformancePay.accuracyBps(120)).isEqualTo(12_000);
        assertThat(PerformancePay.accuracyBps(151)).isEqualTo(15_000);
    }

    @Test
    void speed_steps_at_half_three_quarters_and_the_deadline() {
        assertThat(PerformancePay.speedBps(Duration.ZERO, ALLOWED)).isEqualTo(15_000);
        assertThat(PerformancePay.speedBps(Duration.ofSeconds(50), ALLOWED)).isEqualTo(15_000);
        assertThat(PerformancePay.speedBps(Duration.ofSeconds(50).plusNanos(1), ALLOWED)).isEqualTo(12_500);
        assertThat(PerformancePay.speedBps(Duration.ofSeconds(75), ALLOWED)).isEqualTo(12_500);
        assertThat(PerformancePay.speedBps(Duration.ofSeconds(76), ALLOWED)).isEqualTo(10_000);
        assertThat(PerformancePay.speedBps(Duration.ofSeconds(100), ALLOWED)).isEqualTo(10_000);
        assertThat(PerformancePay.speedBps(Duration.ofSeconds(101), ALLOWED)).isEqualTo(7_500);
    }

    @Test
    void floors_once_on_the_exact_product() {
        // 0.75 * 0.5 * 0.5 * 1.0001 = 0.18751875; base 1001 -> 187.70626... -> 187
        PerformancePay.Breakdown b = PerformancePay.payout(BigInteger.valueOf(1_001), BigInteger.valueOf(1_501), 15_000,
                scores(50, 50, 200, 1));
        assertThat(b.payout()).isEqualTo(BigInteger.valueOf(187));
        assertThat(b.refund()).isEqualTo(BigInteger.valueOf(1_314));
        assertThat(b.productBps()).isEqualTo(1_875);
        assertThat(b.clamped()).isFalse();
    }

    @Test
    void the_product_is_clamped_to_the_largest_multiplier() {
        PerformancePay.Breakdown b = PerformancePay.payout(BigInteger.valueOf(1_000), BigInteger.valueOf(1_500), 15_000,
                scores(200, 150, 10, 1_000));
        assertThat(b.productBps()).isEqualTo(49_500);
        assertThat(b.clamped()).isTrue();
        assertThat(b.payout()).isEqualTo(BigInteger.valueOf(1_500));
        assertThat(b.refund()).isZero();
        assertThat(b.arithmetic()).contains("= 1500");
    }

    @Test
    void the_escrow_bounds_the_payout_when_it_holds_less() {
        PerformancePay.Breakdown b = PerformancePay.payout(BigInteger.valueOf(1_000), BigInteger.valueOf(1_200), 15_000,
                scores(200, 150, 10, 0));
        assertThat(b.payout()).isEqualTo(BigInteger.valueOf(1_200));
        assertThat(b.cappedByEscrow()).isTrue();
        assertThat(b.refund()).isZero();
    }

    @Test
    void refuses_a_multiplier_or_bonus_out_of_range() {
        assertThatThrownBy(() -> PerformancePay.escrowFor(BigInteger.TEN, 9_999)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PerformancePay.escrowFor(BigInteger.TEN, 45_001)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scores(100, 100, 1, 1_001)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Property: payout <= escrow, payout <= base * max, payout + refund = escrow, over seeded random inputs. */
    @Test
    void never_pays_above_the_escrow_and_never_loses_a_base_unit() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 20_000; i++) {
            BigInteger base = new BigInteger(1 + random.nextInt(90), random);
            int max = 10_000 + random.nextInt(35_001);
            BigInteger escrowed = random.nextInt(4) == 0 ? new BigInteger(1 + random.nextInt(90), random)
                    : PerformancePay.escrowFor(base, max);
            PerformancePay.Scores s = new PerformancePay.Scores(random.nextInt(260) - 30, random.nextInt(200) - 20,
                    Duration.ofMillis(random.nextInt(300_000)), Duration.ofMillis(1 + random.nextInt(200_000)),
                    random.nextInt(1_001));
            PerformancePay.Breakdown b = PerformancePay.payout(base, escrowed, max, s);
            String replay = "seed " + seed + " case " + i;
            assertThat(b.payout().signum()).as(replay).isGreaterThanOrEqualTo(0);
            assertThat(b.payout()).as(replay).isLessThanOrEqualTo(escrowed);
            assertThat(b.payout()).as(replay).isLessThanOrEqualTo(base.multiply(BigInteger.valueOf(max))
                    .divide(BigInteger.valueOf(10_000)));
            assertThat(b.payout().add(b.refund())).as(replay).isEqualTo(escrowed);
            BigInteger exact = base.multiply(BigInteger.valueOf(b.qualityBps())).multiply(BigInteger.valueOf(b.speedBps()))
                    .multiply(BigInteger.valueOf(b.accuracyBps())).multiply(BigInteger.valueOf(b.reputationBps()));
            if (!b.clamped() && !b.cappedByEscrow()) {
                // floor: payout * 10^16 <= exact < (payout + 1) * 10^16
                BigInteger scale = BigInteger.TEN.pow(16);
                assertThat(b.payout().multiply(scale)).as(replay).isLessThanOrEqualTo(exact);
                assertThat(b.payout().add(BigInteger.ONE).multiply(scale)).as(replay).isGreaterThan(exact);
            }
        }
    }
}
