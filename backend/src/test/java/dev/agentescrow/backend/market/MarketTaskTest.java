package dev.agentescrow.backend.market;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The maximum base price of a task (budget / largest multiplier, rounded down) and that its escrow fits the budget. */
class MarketTaskTest {

    @Test
    void the_maximum_base_price_is_the_budget_over_the_multiplier_rounded_down() {
        assertThat(MarketTask.maxBasePrice(BigInteger.valueOf(15_000), 15_000)).isEqualTo(BigInteger.valueOf(10_000));
        assertThat(MarketTask.maxBasePrice(BigInteger.valueOf(10_001), 15_000)).isEqualTo(BigInteger.valueOf(6_667));
        assertThat(MarketTask.maxBasePrice(BigInteger.valueOf(9), 45_000)).isEqualTo(BigInteger.TWO);
        assertThat(MarketTask.maxBasePrice(BigInteger.ONE, 15_000)).isZero();
    }

    @Test
    void the_escrow_at_the_maximum_base_price_never_exceeds_the_budget() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int i = 0; i < 10_000; i++) {
            BigInteger budget = new BigInteger(1 + random.nextInt(120), random).add(BigInteger.ONE);
            int max = PerformancePay.BPS + random.nextInt(PerformancePay.MAX_MULTIPLIER_BPS - PerformancePay.BPS + 1);
            BigInteger base = MarketTask.maxBasePrice(budget, max);
            BigInteger escrowed = PerformancePay.escrowFor(base, max);
            assertThat(escrowed).as("seed %d: budget %s, max %d", seed, budget, max).isLessThanOrEqualTo(budget);
            // and one more base unit of price would be too much for the budget (the rounding is down, by less than 1)
            assertThat(base.add(BigInteger.ONE).multiply(BigInteger.valueOf(max)))
                    .as("seed %d: budget %s, max %d", seed, budget, max)
                    .isGreaterThan(budget.multiply(BigInteger.valueOf(PerformancePay.BPS)));
        }
    }
}
