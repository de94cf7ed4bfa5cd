package dev.agentescrow.batcher.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.FeeMarket;
import dev.agentescrow.chain.GasFees;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class FeePolicyTest {
    private static final BigInteger GWEI = BigInteger.TEN.pow(9);

    private static BigInteger gwei(long n) {
        return GWEI.multiply(BigInteger.valueOf(n));
    }

    private static FeeMarket market(long baseGwei, long priorityGwei) {
        return new FeeMarket(gwei(baseGwei), gwei(priorityGwei));
    }

    @Test
    void aFirstSignaturePaysTwiceTheBaseFeePlusTheTipUpToTheCap() {
        FeePolicy policy = new FeePolicy(3, 25, gwei(100));
        assertThat(policy.initial(market(10, 2))).contains(new GasFees(gwei(22), gwei(2)));
        assertThat(policy.initial(market(60, 2))).contains(new GasFees(gwei(100), gwei(2)));
        assertThat(policy.initial(market(100, 2))).as("base fee equal to the cap").contains(new GasFees(gwei(100), gwei(2)));
        assertThat(policy.initial(market(101, 2))).as("a cap below the base fee signs nothing").isEmpty();
    }

    @Test
    void aReplacementRaisesBothFeesByTheBumpOrToTheMarketAndNeverPastTheCap() {
        FeePolicy policy = new FeePolicy(3, 25, gwei(100));
        GasFees first = new GasFees(gwei(8), gwei(2));
        assertThat(policy.replacement(first, market(1, 1))).contains(new GasFees(gwei(10),
                new BigInteger("2500000000")));
        assertThat(policy.replacement(first, market(30, 3))).as("the market rose more than the bump")
                .contains(new GasFees(gwei(63), gwei(3)));
        assertThat(policy.replacement(new GasFees(gwei(85), gwei(2)), market(1, 1))).as("up to the cap")
                .contains(new GasFees(gwei(100), new BigInteger("2500000000")));
        assertThat(policy.replacement(new GasFees(gwei(90), gwei(2)), market(1, 1)))
                .as("less than 12.5% left under the cap: no replacement").isEmpty();
        assertThat(policy.replacement(new GasFees(gwei(100), gwei(2)), market(200, 1))).isEmpty();
        assertThat(policy.replacement(GasFees.of(7, 0), new FeeMarket(BigInteger.ZERO, BigInteger.ZERO)))
                .as("tiny fees still rise: rounded up, at least 1 wei").contains(GasFees.of(9, 1));
    }

    @Test
    void aBumpSmallerThanNodesAcceptIsRefused() {
        assertThatThrownBy(() -> new FeePolicy(3, 12, gwei(100))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FeePolicy(0, 25, gwei(100))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FeePolicy(3, 25, BigInteger.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
