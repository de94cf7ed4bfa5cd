package dev.agentescrow.batcher.settlement;

import static dev.agentescrow.batcher.settlement.Movements.account;
import static dev.agentescrow.batcher.settlement.Movements.token;
import static dev.agentescrow.batcher.settlement.Movements.transfer;
import static dev.agentescrow.batcher.settlement.Movements.withdrawal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.vault.SettlementBatch;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchPlannerTest {
    private static final long SEED = Long.getLong("planner.seed", 20261122L);
    private static final BigInteger SMALL = BigInteger.valueOf(1_000_000);
    private static final BigInteger HUGE = SettlementBatch.MAX_ENTRY_AMOUNT.shiftRight(2);

    /** Workloads that run into each bound: accounts (entries), withdrawals (payouts), tokens, amounts, size. */
    private static final List<Movements.Shape> SHAPES = List.of(
            new Movements.Shape(3_000, 2_000, 2, 2, SMALL),
            new Movements.Shape(1_000, 30, 3, 60, SMALL),
            new Movements.Shape(800, 10, 60, 5, SMALL),
            new Movements.Shape(400, 4, 2, 5, HUGE),
            new Movements.Shape(500, 50, 5, 10, SMALL));

    @Test
    void everyBatchFitsTheVaultAndClosesOnlyWhenTheNextMovementWouldNot() {
        for (int run = 0; run < 15; run++) {
            long seed = SEED + run;
            try {
                checkPlan(seed);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("planner failed for seed " + seed + " (replay: -Dplanner.seed=" + seed + "): "
                        + e.getMessage(), e);
            }
        }
    }

    private static void checkPlan(long seed) {
        Random random = new Random(seed);
        Movements.Shape shape = SHAPES.get(random.nextInt(SHAPES.size()));
        List<SettlementMovement> movements = Movements.random(random, shape);
        BatchPlanner planner = switch (random.nextInt(3)) {
            case 0 -> BatchPlanner.withDefaults();
            case 1 -> BatchPlanner.withGasBudget(Long.MAX_VALUE);
            default -> new BatchPlanner(1 + random.nextInt(400));
        };

        List<List<SettlementMovement>> groups = planner.split(movements);
        List<NettedBatch> batches = planner.plan(11, movements);

        List<SettlementMovement> concatenated = new ArrayList<>();
        groups.forEach(concatenated::addAll);
        assertThat(concatenated).as("groups in order, nothing lost or split").isEqualTo(movements);
        assertThat(batches).hasSameSizeAs(groups);
        for (int i = 0; i < batches.size(); i++) {
            NettedBatch batch = batches.get(i);
            SettlementBatch settlement = batch.settlementBatch();
            assertThat(batch.batchId()).isEqualTo(11 + i);
            assertThat(batch.movements()).isEqualTo(groups.get(i));
            assertThat(batch.movementCount()).isBetween(1, planner.maxMovementsPerBatch());
            assertThat(settlement.entryCount()).isLessThanOrEqualTo(SettlementBatch.MAX_ENTRIES);
            assertThat(settlement.tokens().size()).isLessThanOrEqualTo(SettlementBatch.MAX_TOKENS);
            assertThat(settlement.tokens().stream().mapToInt(t -> t.payouts().size()).sum())
                    .isLessThanOrEqualTo(SettlementBatch.MAX_PAYOUTS);
            settlement.tokens().forEach(t -> t.deltas().forEach(d ->
                    assertThat(d.signedDelta().abs()).isLessThanOrEqualTo(SettlementBatch.MAX_ENTRY_AMOUNT)));
            assertThat(gasBound(batch)).isLessThanOrEqualTo(planner.maxGasPerBatch());
            if (i + 1 < batches.size()) {
                List<SettlementMovement> withNext = new ArrayList<>(groups.get(i));
                withNext.add(groups.get(i + 1).get(0));
                boolean atMovementLimit = groups.get(i).size() == planner.maxMovementsPerBatch();
                if (!atMovementLimit) {
                    NettedBatch larger;
                    try {
                        larger = BatchNetting.net(1, withNext);
                    } catch (IllegalArgumentException e) {
                        assertThat(e).as("batch %d closed early", i).hasMessageContaining("bound");
                        continue;
                    }
                    assertThat(gasBound(larger)).as("batch %d closed early", i)
                            .isGreaterThan(planner.maxGasPerBatch());
                }
            }
        }
        assertThat(Movements.nettedDeltas(batches.stream().map(NettedBatch::settlementBatch).toList()))
                .as("all batches together move what the movements move").isEqualTo(Movements.expectedNets(movements));
        List<SettlementBatch.Payout> payouts = new ArrayList<>();
        batches.forEach(b -> b.settlementBatch().tokens().forEach(t -> payouts.addAll(t.payouts())));
        assertThat(payouts).containsExactlyInAnyOrderElementsOf(Movements.expectedPayouts(movements));
        assertThat(planner.next(11, movements)).hasValueSatisfying(first -> {
            assertThat(first.movements()).isEqualTo(groups.get(0));
            assertThat(first.merkleRoot()).isEqualTo(batches.get(0).merkleRoot());
        });
    }

    private static long gasBound(NettedBatch batch) {
        SettlementBatch settlement = batch.settlementBatch();
        int payouts = settlement.tokens().stream().mapToInt(t -> t.payouts().size()).sum();
        return BatchGas.estimate(settlement.entryCount(), payouts, settlement.tokens().size());
    }

    @Test
    void theGasBudgetClosesABatchBeforeTheVaultsBounds() {
        // 1,023 transfers to fresh accounts fill the vault's 1,024 entries, but not the gas budget
        List<SettlementMovement> entries = new ArrayList<>();
        for (int i = 0; i < SettlementBatch.MAX_ENTRIES - 1; i++) {
            entries.add(transfer(i, token(0), account(0), account(i + 1), 1));
        }
        int fit = (int) ((BatchGas.DEFAULT_MAX_GAS_PER_BATCH - BatchGas.BASE - BatchGas.TOKEN) / BatchGas.ENTRY) - 1;
        List<List<SettlementMovement>> groups = BatchPlanner.withDefaults().split(entries);
        assertThat(groups).extracting(List::size).containsExactly(fit, SettlementBatch.MAX_ENTRIES - 1 - fit);
        assertThat(gasBound(BatchNetting.net(1, groups.get(0)))).isLessThanOrEqualTo(BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
        assertThat(BatchPlanner.withDefaults().next(1, entries)).hasValueSatisfying(
                first -> assertThat(first.movementCount()).isEqualTo(fit));
        // any single movement fits a batch within the smallest budget allowed
        assertThat(BatchPlanner.withGasBudget(BatchGas.SINGLE_MOVEMENT)
                .split(List.of(withdrawal(1, token(0), account(0), account(1), 1)))).hasSize(1);
        assertThatThrownBy(() -> BatchPlanner.withGasBudget(BatchGas.SINGLE_MOVEMENT - 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * A debit, or a credit to an account funded on chain, writes a slot that is not zero: the gas
     * bound counts it as {@link BatchGas#FUNDED_ENTRY}, so such a batch reaches the vault's 1,024
     * entries where credits to fresh accounts stop at 572.
     */
    @Test
    void debitsAndCreditsToFundedAccountsCountAsWritesOfNonZeroSlots() {
        List<SettlementMovement> toMany = new ArrayList<>();
        List<SettlementMovement> fromMany = new ArrayList<>();
        for (int i = 0; i < SettlementBatch.MAX_ENTRIES + 99; i++) {
            toMany.add(transfer(i, token(0), account(0), account(i + 1), 1));
            fromMany.add(transfer(i, token(0), account(i + 1), account(0), 1));
        }
        BatchPlanner planner = BatchPlanner.withDefaults();
        int fresh = (int) ((BatchGas.DEFAULT_MAX_GAS_PER_BATCH - BatchGas.BASE - BatchGas.TOKEN
                - BatchGas.FUNDED_ENTRY) / BatchGas.ENTRY);
        assertThat(planner.next(1, toMany)).hasValueSatisfying(b -> assertThat(b.movementCount()).isEqualTo(fresh));
        // every credit to a funded account: the vault's entries close the batch
        assertThat(planner.next(1, toMany, (token, account) -> true)).hasValueSatisfying(
                b -> assertThat(b.movementCount()).isEqualTo(SettlementBatch.MAX_ENTRIES - 1));
        // debits of many payers to one fresh account: the same without knowing any account
        assertThat(planner.next(1, fromMany)).hasValueSatisfying(
                b -> assertThat(b.movementCount()).isEqualTo(SettlementBatch.MAX_ENTRIES - 1));
        // only the accounts named count as funded (odd ones here)
        BatchPlanner.Funded odd = (token, account) -> Integer.parseInt(account.hex().substring(36), 16) % 2 == 1;
        NettedBatch mixed = planner.next(1, toMany, odd).orElseThrow();
        long freshCredits = mixed.movements().stream()
                .map(m -> ((SettlementMovement.Transfer) m).to())
                .filter(a -> !odd.funded(token(0), a)).count();
        long bound = BatchGas.estimate(mixed.movementCount() + 1, (int) freshCredits, 0, 1);
        assertThat(bound).isLessThanOrEqualTo(BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
        assertThat(mixed.movementCount()).isGreaterThan(fresh).isLessThan(SettlementBatch.MAX_ENTRIES - 1);
        // and the next movement would pass the budget
        SettlementMovement.Transfer following = (SettlementMovement.Transfer) toMany.get(mixed.movementCount());
        long boundWithNext = BatchGas.estimate(mixed.movementCount() + 2,
                (int) freshCredits + (odd.funded(token(0), following.to()) ? 0 : 1), 0, 1);
        assertThat(boundWithNext).isGreaterThan(BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
    }

    @Test
    void eachBoundClosesABatch() {
        List<SettlementMovement> payouts = new ArrayList<>();
        for (int i = 0; i < 2 * SettlementBatch.MAX_PAYOUTS + 1; i++) {
            payouts.add(withdrawal(i, token(0), account(0), account(1), 1));
        }
        assertThat(BatchPlanner.withGasBudget(Long.MAX_VALUE).split(payouts)).extracting(List::size)
                .containsExactly(SettlementBatch.MAX_PAYOUTS, SettlementBatch.MAX_PAYOUTS, 1);

        List<SettlementMovement> tokens = new ArrayList<>();
        for (int i = 0; i < SettlementBatch.MAX_TOKENS + 1; i++) {
            tokens.add(transfer(i, token(i), account(0), account(1), 1));
        }
        assertThat(BatchPlanner.withGasBudget(Long.MAX_VALUE).split(tokens)).extracting(List::size)
                .containsExactly(SettlementBatch.MAX_TOKENS, 1);

        // every transfer to a new account adds one entry; the first adds two
        List<SettlementMovement> entries = new ArrayList<>();
        for (int i = 0; i < SettlementBatch.MAX_ENTRIES; i++) {
            entries.add(transfer(i, token(0), account(0), account(i + 1), 1));
        }
        assertThat(BatchPlanner.withGasBudget(Long.MAX_VALUE).split(entries)).extracting(List::size)
                .containsExactly(SettlementBatch.MAX_ENTRIES - 1, 1);

        assertThat(new BatchPlanner(3).split(payouts.subList(0, 7))).extracting(List::size).containsExactly(3, 3, 1);
    }

    @Test
    void aMovementThatCancelsAnEntryStillFits() {
        // 1,023 transfers from account 0 fill all 1,024 entries; the next reverses one (1,023 entries
        // left), so it joins the batch, and then one more new account fits again
        List<SettlementMovement> movements = new ArrayList<>();
        for (int i = 0; i < SettlementBatch.MAX_ENTRIES - 1; i++) {
            movements.add(transfer(i, token(0), account(0), account(i + 1), 1));
        }
        movements.add(transfer(5_000, token(0), account(1), account(0), 1));
        movements.add(transfer(5_001, token(0), account(0), account(5_000), 1));

        List<List<SettlementMovement>> groups = BatchPlanner.withGasBudget(Long.MAX_VALUE).split(movements);

        assertThat(groups).extracting(List::size).containsExactly(SettlementBatch.MAX_ENTRIES + 1);
        assertThat(BatchNetting.net(1, groups.get(0)).entryCount()).isEqualTo(SettlementBatch.MAX_ENTRIES);
    }

    @Test
    void duplicateIdsAndBadLimitsAreRejected() {
        List<SettlementMovement> movements = List.of(transfer(1, token(0), account(0), account(1), 1),
                transfer(1, token(0), account(1), account(2), 1));
        assertThatThrownBy(() -> new BatchPlanner(1).split(movements)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> new BatchPlanner(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(BatchPlanner.withDefaults().split(List.of())).isEmpty();
        assertThat(BatchPlanner.withDefaults().next(1, List.of())).isEmpty();
    }
}
