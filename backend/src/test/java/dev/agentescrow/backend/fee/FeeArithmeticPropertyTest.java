package dev.agentescrow.backend.fee;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Property tests of the fee arithmetic: a payout's split into net, platform fee and protocol fee,
 * and a distribution's division among stakeholders over a chain of periods (with the remainder
 * carried), never lose or create a base unit. Seeded random loops, bounded in count and time;
 * {@code -Dfee.seed=<n>} replays a run (the seed is in every failure message).
 */
class FeeArithmeticPropertyTest {
    private static final long SEED = Long.getLong("fee.seed", System.nanoTime());
    private static final int MAX_CASES = 20_000;
    private static final long MAX_MILLIS = 3_000;
    private static final BigInteger MAX_UINT256 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

    @Test
    void a_split_adds_up_to_the_gross_and_each_fee_is_its_own_floor() {
        Random random = new Random(SEED);
        long deadline = System.currentTimeMillis() + MAX_MILLIS;
        for (int i = 0; i < MAX_CASES && System.currentTimeMillis() < deadline; i++) {
            BigInteger gross = amount(random);
            FeeRates rates = new FeeRates(bps(random), bps(random));
            FeeSplit split = rates.split(gross);
            String seed = "seed " + SEED + ", case " + i + ": " + gross + " at " + rates;
            assertThat(split.net().add(split.platform()).add(split.protocol())).as(seed).isEqualTo(gross);
            assertThat(split.net().signum()).as(seed).isGreaterThanOrEqualTo(0);
            assertThat(split.platform()).as(seed).isEqualTo(floor(gross, rates.platformBps()));
            assertThat(split.protocol()).as(seed).isEqualTo(floor(gross, rates.protocolBps()));
            // floor per part: the payee keeps both remainders, so the fees never exceed the combined rate
            assertThat(split.fees()).as(seed).isLessThanOrEqualTo(floor(gross, rates.totalBps()));
        }
    }

    @Test
    void distributions_over_periods_pay_exactly_what_was_collected_less_the_last_carry() {
        Random random = new Random(SEED + 1);
        long deadline = System.currentTimeMillis() + MAX_MILLIS;
        for (int run = 0; run < MAX_CASES / 10 && System.currentTimeMillis() < deadline; run++) {
            int stakeholders = 1 + random.nextInt(random.nextBoolean() ? 3 : 50);
            List<Long> shares = new ArrayList<>();
            for (int s = 0; s < stakeholders; s++) {
                shares.add(1 + (long) random.nextInt(random.nextBoolean() ? 10 : (int) Stakeholder.MAX_SHARES));
            }
            BigInteger collected = BigInteger.ZERO;
            BigInteger paid = BigInteger.ZERO;
            BigInteger carry = BigInteger.ZERO;
            int periods = 1 + random.nextInt(8);
            for (int p = 0; p < periods; p++) {
                BigInteger got = random.nextInt(4) == 0 ? BigInteger.ZERO : amount(random);
                collected = collected.add(got);
                BigInteger pool = got.add(carry);
                FeeShares.Division division = FeeShares.divide(pool, shares);
                String seed = "seed " + SEED + ", run " + run + ", period " + p + ": pool " + pool + " by " + shares;
                BigInteger parts = division.parts().stream().reduce(BigInteger.ZERO, BigInteger::add);
                assertThat(parts.add(division.remainder())).as(seed).isEqualTo(pool);
                assertThat(division.remainder().signum()).as(seed).isGreaterThanOrEqualTo(0);
                assertThat(division.remainder()).as(seed).isLessThan(BigInteger.valueOf(stakeholders));
                long total = shares.stream().mapToLong(Long::longValue).sum();
                for (int s = 0; s < stakeholders; s++) {
                    assertThat(division.parts().get(s)).as(seed).isEqualTo(
                            pool.multiply(BigInteger.valueOf(shares.get(s))).divide(BigInteger.valueOf(total)));
                }
                paid = paid.add(parts);
                carry = division.remainder();
            }
            assertThat(paid.add(carry)).as("seed " + SEED + ", run " + run).isEqualTo(collected);
        }
    }

    @Test
    void equal_shares_of_a_small_pool_carry_it_whole() {
        FeeShares.Division division = FeeShares.divide(BigInteger.TWO, List.of(1L, 1L, 1L));
        assertThat(division.parts()).containsExactly(BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO);
        assertThat(division.remainder()).isEqualTo(BigInteger.TWO);
        FeeShares.Division next = FeeShares.divide(BigInteger.valueOf(2 + 10), List.of(1L, 1L, 1L));
        assertThat(next.parts()).containsExactly(BigInteger.valueOf(4), BigInteger.valueOf(4), BigInteger.valueOf(4));
        assertThat(next.remainder()).isZero();
    }

    @Test
    void a_split_of_one_base_unit_keeps_it_with_the_payee() {
        FeeSplit split = new FeeRates(1_000, 1_000).split(BigInteger.valueOf(9));
        assertThat(split.platform()).isZero();
        assertThat(split.protocol()).isZero();
        assertThat(split.net()).isEqualTo(9);
        FeeSplit ten = new FeeRates(100, 50).split(BigInteger.valueOf(10_199));
        assertThat(ten.platform()).isEqualTo(101);
        assertThat(ten.protocol()).isEqualTo(50);
        assertThat(ten.net()).isEqualTo(10_048);
    }

    private static BigInteger amount(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> BigInteger.valueOf(random.nextInt(100));
            case 1 -> BigInteger.valueOf(random.nextLong(1, 1_000_000_000_000L));
            case 2 -> new BigInteger(256, random).min(MAX_UINT256);
            default -> MAX_UINT256.subtract(BigInteger.valueOf(random.nextInt(1_000)));
        };
    }

    private static int bps(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> FeeRates.MAX_BPS;
            default -> random.nextInt(FeeRates.MAX_BPS + 1);
        };
    }

    private static BigInteger floor(BigInteger amount, int bps) {
        return amount.multiply(BigInteger.valueOf(bps)).divide(BigInteger.valueOf(10_000));
    }
}
