package dev.agentescrow.backend.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The largest-remainder rule over random amounts, weights and step counts: the shares always add
 * up to exactly the amount (no base unit lost or created), each is its floor or one more, and the
 * extra units go to the largest remainders. Seeded and bounded in count and time; the seed is in
 * every failure message so that a failure can be replayed.
 */
class SplitsTest {
    private static final long SEED = Long.getLong("splits.seed", System.nanoTime());
    private static final int CASES = 20_000;
    private static final long MAX_MILLIS = 5_000;

    @Test
    void no_base_unit_is_lost_or_created() {
        Random random = new Random(SEED);
        long started = System.currentTimeMillis();
        for (int n = 0; n < CASES && System.currentTimeMillis() - started < MAX_MILLIS; n++) {
            int steps = 1 + random.nextInt(WorkflowDraft.MAX_STEPS);
            BigInteger total = switch (random.nextInt(3)) {
                case 0 -> BigInteger.valueOf(random.nextInt(50));
                case 1 -> BigInteger.valueOf(random.nextLong() & Long.MAX_VALUE);
                default -> new BigInteger(256, random);
            };
            List<BigInteger> weights = new ArrayList<>();
            for (int i = 0; i < steps; i++) {
                weights.add(random.nextInt(4) == 0 ? BigInteger.valueOf(random.nextInt(3))
                        : new BigInteger(1 + random.nextInt(64), random));
            }
            if (weights.stream().allMatch(w -> w.signum() == 0)) {
                weights.set(0, BigInteger.ONE);
            }
            List<BigInteger> shares = Splits.largestRemainder(total, weights);
            String replay = "seed " + SEED + ", case " + n + ": total " + total + ", weights " + weights;
            assertThat(shares).as(replay).hasSize(steps);
            assertThat(shares.stream().reduce(BigInteger.ZERO, BigInteger::add)).as(replay).isEqualTo(total);
            BigInteger sum = weights.stream().reduce(BigInteger.ZERO, BigInteger::add);
            for (int i = 0; i < steps; i++) {
                BigInteger floor = total.multiply(weights.get(i)).divide(sum);
                assertThat(shares.get(i).subtract(floor)).as(replay + ", step " + i).isBetween(BigInteger.ZERO,
                        BigInteger.ONE);
            }
        }
    }

    @Test
    void the_extra_units_go_to_the_largest_remainders_then_to_the_earlier_step() {
        assertThat(Splits.equal(BigInteger.valueOf(10), 3)).containsExactly(BigInteger.valueOf(4), BigInteger.valueOf(3),
                BigInteger.valueOf(3));
        assertThat(Splits.largestRemainder(BigInteger.valueOf(100), List.of(BigInteger.valueOf(1), BigInteger.valueOf(2),
                BigInteger.valueOf(3)))).containsExactly(BigInteger.valueOf(17), BigInteger.valueOf(33),
                BigInteger.valueOf(50));
        assertThat(Splits.largestRemainder(BigInteger.valueOf(1_000_001), List.of(BigInteger.valueOf(5000),
                BigInteger.valueOf(5000)))).containsExactly(BigInteger.valueOf(500_001), BigInteger.valueOf(500_000));
    }
}
