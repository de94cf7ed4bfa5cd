package dev.agentescrow.batcher.settlement;

import static dev.agentescrow.batcher.settlement.Movements.account;
import static dev.agentescrow.batcher.settlement.Movements.token;
import static dev.agentescrow.batcher.settlement.Movements.transfer;
import static dev.agentescrow.batcher.settlement.Movements.withdrawal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.merkle.StandardMerkleTree;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementBatch.Delta;
import dev.agentescrow.chain.vault.SettlementBatch.Payout;
import dev.agentescrow.chain.vault.SettlementBatch.TokenSettlement;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchNettingTest {
    private static final long SEED = Long.getLong("netting.seed", 424242L);
    private static final Address USD = token(0);
    private static final Address EUR = token(1);
    private static final Address ALICE = account(0);
    private static final Address BOB = account(1);
    private static final Address CAROL = account(2);

    @Test
    void transfersNetPerTokenAndAccountAndWithdrawalsBecomePayouts() {
        List<SettlementMovement> movements = List.of(
                transfer(1, USD, ALICE, BOB, 100),
                transfer(2, USD, BOB, CAROL, 30),
                transfer(3, EUR, CAROL, ALICE, 5),
                withdrawal(4, USD, BOB, CAROL, 20),
                transfer(5, USD, CAROL, ALICE, 30),
                withdrawal(6, EUR, ALICE, ALICE, 1));

        NettedBatch batch = BatchNetting.net(7, movements);

        // tokens in address order (USD = token(0) < EUR = token(1)), deltas in account address order;
        // carol's USD nets to zero and is left out
        assertThat(batch.settlementBatch().tokens()).containsExactly(
                new TokenSettlement(USD,
                        List.of(new Delta(ALICE, BigInteger.valueOf(-70)), new Delta(BOB, BigInteger.valueOf(70))),
                        List.of(new Payout(BOB, CAROL, Amount.of(20)))),
                new TokenSettlement(EUR,
                        List.of(new Delta(ALICE, BigInteger.valueOf(5)), new Delta(CAROL, BigInteger.valueOf(-5))),
                        List.of(new Payout(ALICE, ALICE, Amount.of(1)))));
        assertThat(batch.batchId()).isEqualTo(7);
        assertThat(batch.movementCount()).isEqualTo(6);
        assertThat(batch.transferCount()).isEqualTo(4);
        assertThat(batch.withdrawalCount()).isEqualTo(2);
        assertThat(batch.entryCount()).isEqualTo(6);
        assertThat(batch.merkleRoot()).isEqualTo(batch.settlementBatch().merkleRoot());
    }

    @Test
    void everyMovementIsALeafWithAProof() {
        List<SettlementMovement> movements = List.of(transfer(1, USD, ALICE, BOB, 100), withdrawal(2, USD, BOB, CAROL, 20));

        NettedBatch batch = BatchNetting.net(1, movements);

        assertThat(batch.tree().leaves()).containsExactly(
                new TransferLeaf(TransferId.of(1), USD, ALICE, BOB, Amount.of(100)),
                // a withdrawal's leaf: from = the debited account, to = the recipient
                new TransferLeaf(TransferId.of(2), USD, BOB, CAROL, Amount.of(20)));
        assertThat(batch.merkleRoot()).isEqualTo(StandardMerkleTree.of(batch.tree().leaves()).root());
        for (SettlementMovement movement : movements) {
            InclusionProof proof = batch.proof(movement.transferId()).orElseThrow();
            assertThat(proof.batchId()).isEqualTo(1);
            assertThat(proof.merkleRoot()).isEqualTo(batch.merkleRoot());
            assertThat(proof.leaf()).isEqualTo(movement.leaf());
            assertThat(proof.verify()).isTrue();
        }
        assertThat(batch.contains(TransferId.of(3))).isFalse();
        assertThat(batch.proof(TransferId.of(3))).isEmpty();
    }

    @Test
    void transfersThatCancelOutLeaveNoEntryButStayInTheTree() {
        NettedBatch batch = BatchNetting.net(1, List.of(transfer(1, USD, ALICE, BOB, 5), transfer(2, USD, BOB, ALICE, 5)));

        assertThat(batch.settlementBatch().tokens()).isEmpty();
        assertThat(batch.entryCount()).isZero();
        assertThat(batch.tree().size()).isEqualTo(2);
    }

    @Test
    void randomMovementsConserveValue() {
        for (int run = 0; run < 20; run++) {
            long seed = SEED + run;
            try {
                checkConservation(seed);
            } catch (AssertionError e) {
                throw new AssertionError("netting failed for seed " + seed + " (replay: -Dnetting.seed=" + seed + "): "
                        + e.getMessage(), e);
            }
        }
    }

    private static void checkConservation(long seed) {
        Random random = new Random(seed);
        List<SettlementMovement> movements = Movements.random(random, new Movements.Shape(
                1 + random.nextInt(300), 2 + random.nextInt(40), 1 + random.nextInt(4), random.nextInt(20),
                BigInteger.valueOf(1_000_000)));
        List<SettlementMovement> fitting = BatchPlanner.withDefaults().split(movements).get(0);

        NettedBatch batch = BatchNetting.net(1, fitting);

        SettlementBatch settlement = batch.settlementBatch();
        for (TokenSettlement token : settlement.tokens()) {
            assertThat(token.deltas().stream().map(Delta::signedDelta).reduce(BigInteger.ZERO, BigInteger::add))
                    .as("sum of %s deltas", token.token()).isZero();
            assertThat(token.deltas()).allSatisfy(d -> assertThat(d.signedDelta().signum()).isNotZero());
            assertThat(token.deltas()).isSortedAccordingTo(Comparator.comparing(Delta::account));
            assertThat(token.deltas().size() + token.payouts().size()).isPositive();
        }
        assertThat(settlement.tokens()).extracting(TokenSettlement::token).isSorted();
        assertThat(Movements.nettedDeltas(List.of(settlement))).isEqualTo(Movements.expectedNets(fitting));
        List<Payout> payouts = new ArrayList<>();
        settlement.tokens().forEach(t -> payouts.addAll(t.payouts()));
        assertThat(payouts).containsExactlyInAnyOrderElementsOf(Movements.expectedPayouts(fitting));
        assertThat(batch.movements()).isEqualTo(fitting);
        assertThat(batch.tree().leaves()).isEqualTo(fitting.stream().map(SettlementMovement::leaf).toList());
        assertThat(batch.transferCount() + batch.withdrawalCount()).isEqualTo(fitting.size());
        assertThat(batch.withdrawalCount()).isEqualTo(payouts.size());
        SettlementMovement sample = fitting.get(random.nextInt(fitting.size()));
        assertThat(batch.proof(sample.transferId()).orElseThrow().verify()).isTrue();
    }

    @Test
    void selfTransfersAreRejected() {
        assertThatThrownBy(() -> transfer(1, USD, ALICE, ALICE, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("to itself");
    }

    @Test
    void invalidMovementsAreRejected() {
        assertThatThrownBy(() -> transfer(1, USD, ALICE, BOB, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SettlementMovement.Transfer(TransferId.of(1), USD, ALICE, BOB,
                Amount.of(SettlementBatch.MAX_ENTRY_AMOUNT.add(BigInteger.ONE))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^128 - 1");
        assertThatThrownBy(() -> withdrawal(1, USD, ALICE, Address.ZERO, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("recipient");
        assertThatThrownBy(() -> transfer(1, USD, Address.ZERO, BOB, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyInputDuplicateIdsAndOversizedInputAreRejected() {
        assertThatThrownBy(() -> BatchNetting.net(1, List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one movement");
        assertThatThrownBy(() -> BatchNetting.net(1, List.of(transfer(1, USD, ALICE, BOB, 1), transfer(1, USD, BOB, CAROL, 1))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
        List<SettlementMovement> tooManyPayouts = new ArrayList<>();
        for (int i = 0; i <= SettlementBatch.MAX_PAYOUTS; i++) {
            tooManyPayouts.add(withdrawal(i, USD, ALICE, BOB, 1));
        }
        assertThatThrownBy(() -> BatchNetting.net(1, tooManyPayouts)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("movement " + SettlementBatch.MAX_PAYOUTS).hasMessageContaining("PAYOUTS");
    }

    @Test
    void aNetBeyondTheEntryWidthIsRejected() {
        Amount big = Amount.of(SettlementBatch.MAX_ENTRY_AMOUNT.shiftRight(1).add(BigInteger.ONE));
        List<SettlementMovement> movements = List.of(
                new SettlementMovement.Transfer(TransferId.of(1), USD, ALICE, BOB, big),
                new SettlementMovement.Transfer(TransferId.of(2), USD, CAROL, BOB, big));

        assertThatThrownBy(() -> BatchNetting.net(1, movements)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DELTA_AMOUNT");
        assertThat(BatchNetting.net(1, movements.subList(0, 1)).entryCount()).isEqualTo(2);
    }
}
