package dev.agentescrow.batcher.settlement;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The settled balances a submitter keeps for planning: moved by its own confirmed batches, forgotten on any doubt. */
class SettledBalancesTest {
    private static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    private static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    private static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    private static final Address CAROL = Address.of("0x0000000000000000000000000000000000000ca1");

    private static SettlementBatch batch(long id, List<SettlementBatch.Delta> deltas, List<SettlementBatch.Payout> payouts) {
        return new SettlementBatch(id, Bytes32.ZERO, List.of(new SettlementBatch.TokenSettlement(USDC, deltas, payouts)));
    }

    @Test
    void confirmedBatchesMoveTheBalancesReadAndOnlyThose() {
        SettledBalances balances = new SettledBalances();
        balances.syncTo(4);
        balances.read(USDC, ALICE, BigInteger.valueOf(100));
        balances.read(USDC, BOB, BigInteger.ZERO);

        balances.applied(batch(5, List.of(new SettlementBatch.Delta(ALICE, BigInteger.valueOf(-100)),
                new SettlementBatch.Delta(BOB, BigInteger.valueOf(60)), new SettlementBatch.Delta(CAROL,
                        BigInteger.valueOf(40))), List.of()));
        assertThat(balances.get(USDC, ALICE)).contains(BigInteger.ZERO);
        assertThat(balances.get(USDC, BOB)).contains(BigInteger.valueOf(60));
        assertThat(balances.get(USDC, CAROL)).as("never read: read when needed").isEmpty();

        // a payout debits its whole amount (the vault pays at most that), never below zero
        balances.applied(batch(6, List.of(), List.of(new SettlementBatch.Payout(BOB, BOB, Amount.of(70)))));
        assertThat(balances.get(USDC, BOB)).contains(BigInteger.ZERO);
        balances.syncTo(6);
        assertThat(balances.size()).isEqualTo(2);
    }

    @Test
    void aBatchThisSubmitterDidNotApplyForgetsEverything() {
        SettledBalances balances = new SettledBalances();
        balances.syncTo(4);
        balances.read(USDC, ALICE, BigInteger.valueOf(100));
        balances.syncTo(5);
        assertThat(balances.get(USDC, ALICE)).as("batch 5 was confirmed by another submitter").isEmpty();

        balances.read(USDC, ALICE, BigInteger.valueOf(100));
        balances.applied(batch(7, List.of(new SettlementBatch.Delta(ALICE, BigInteger.valueOf(-100)),
                new SettlementBatch.Delta(BOB, BigInteger.valueOf(100))), List.of()));
        assertThat(balances.get(USDC, ALICE)).as("batch 6 was never applied here").isEmpty();

        balances.syncTo(7);
        balances.read(USDC, ALICE, BigInteger.ONE);
        balances.clear();
        assertThat(balances.size()).isZero();
    }
}
