package dev.agentescrow.batcher.settlement;

import static dev.agentescrow.batcher.settlement.CongestedChain.gwei;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.chain.SignerLane;
import dev.agentescrow.batcher.chain.SignerLanes;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainClient.BroadcastOutcome;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.GasFees;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Function;

/**
 * Stuck settlement transactions (issue 10, item 8) on the real Hardhat node with automine off and
 * the base fee set by the test ({@link CongestedChain}): a batch transaction that no block takes
 * within {@link FeePolicy#replaceAfterBlocks()} blocks is replaced at its nonce with higher
 * EIP-1559 fees, stored before it is broadcast; whichever stored transaction is mined confirms the
 * batch, once; the fee cap stops the rises with an alarm; and another signer lane is never held
 * back by the stuck one.
 */
@ExtendWith(LocalChainExtension.class)
class StuckTransactionIT {
    private static final int OPERATOR = 19;
    private static final int OTHER_LANE = 17;
    private static final int FIRST_AGENT = 3;
    private static final int AGENTS = 4;
    private static final Amount DEPOSIT = Amount.tokens(1_000, 6);
    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final Instant OVERDUE = NOW.minus(Duration.ofHours(1));
    private static final int REPLACE_AFTER = 2;
    private static final BigInteger CONGESTED = gwei(20);

    private record Fixture(Erc20Token token, SettlementVaultGateway vault, List<Address> agents, long fromBlock) {
    }

    private static Fixture fixture(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Stuck USD", "STUCK", 6);
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                Address.of(DevAccounts.account(OPERATOR).getAddress()), Duration.ofDays(7));
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        List<Address> agents = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            Signer agent = chain.account(FIRST_AGENT + i);
            agents.add(agent.address());
            token.mint(admin, agent.address(), DEPOSIT);
            vault.deposit(agent, token.address(), DEPOSIT);
        }
        return new Fixture(token, vault, agents, chain.client().blockNumber());
    }

    /** Ten transfers in a ring of the agents, ids tagged with {@code tag}. */
    private static List<SettlementMovement> ring(Fixture fixture, long tag) {
        List<SettlementMovement> out = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            out.add(new SettlementMovement.Transfer(TransferId.of(BigInteger.valueOf(tag).shiftLeft(32)
                    .add(BigInteger.valueOf(i + 1))), fixture.token().address(), fixture.agents().get(i % AGENTS),
                    fixture.agents().get((i + 1) % AGENTS), Amount.of(1_000L + i)));
        }
        return out;
    }

    private static final class FreeLock implements SingleSubmitterLock {
        @Override
        public boolean tryAcquire() {
            return true;
        }

        @Override
        public void release() {
        }
    }

    private static BatchSubmitter submitter(ChainClient client, Signer operator, Fixture fixture, BatchStore store,
                                            SettlementSource source, FeePolicy fees, SettlementMetrics metrics) {
        SettlementChain chain = new SettlementChain(client, new SettlementVaultGateway(client, fixture.vault().address()),
                operator, new ResilientRpc("submitter", new RpcResilienceConfig(2, Duration.ofMillis(5), 2.0,
                Duration.ofMillis(50), 0.5, 50f, 50, Duration.ofSeconds(30), 1)));
        return new BatchSubmitter(chain, store, source, new FreeLock(),
                new BatchTrigger(100, Duration.ofSeconds(300), Clock.fixed(NOW, ZoneOffset.UTC)),
                BatchPlanner.withDefaults(), metrics, 1, BatchAmendment.NONE, fees);
    }

    private static FeePolicy policy() {
        return new FeePolicy(REPLACE_AFTER, 25, gwei(500));
    }

    private static ChainClient operatorClient(LocalChain chain) {
        return ChainClient.connect(ChainSettings.local(chain.rpcUrl()), Duration.ofSeconds(2));
    }

    private static void mineCongested(CongestedChain congested, int blocks) {
        for (int i = 0; i < blocks; i++) {
            congested.mine(CONGESTED);
        }
    }

    /** Batch 1 applied once, by a confirmed row with the same root, and nothing else. */
    private static void assertAppliedOnce(LocalChain chain, Fixture fixture, InMemorySettlementLedger ledger) {
        assertThat(fixture.vault().lastBatchId()).isEqualTo(1);
        List<BatchSettled> events = fixture.vault().batchesSettledBetween(fixture.fromBlock(),
                chain.client().blockNumber());
        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.batchId()).isEqualTo(1);
            assertThat(event.merkleRoot()).isEqualTo(ledger.confirmed().getFirst().batch().merkleRoot());
        });
        assertThat(ledger.settledCalls()).containsExactly(1L);
        assertThat(ledger.openBatches()).isEmpty();
        assertThat(ledger.backlog()).isEqualTo(UnsettledBacklog.EMPTY);
        BigInteger total = BigInteger.ZERO;
        for (Address agent : fixture.agents()) {
            total = total.add(fixture.vault().settledBalance(fixture.token().address(), agent).baseUnits());
        }
        assertThat(total).as("the ring moves tokens between agents only")
                .isEqualTo(DEPOSIT.baseUnits().multiply(BigInteger.valueOf(AGENTS)));
    }

    private static void assertRaisedByAQuarter(GasFees before, GasFees after) {
        assertThat(after.maxFeePerGas().multiply(BigInteger.valueOf(4)))
                .isGreaterThanOrEqualTo(before.maxFeePerGas().multiply(BigInteger.valueOf(5)));
        assertThat(after.maxPriorityFeePerGas().multiply(BigInteger.valueOf(4)))
                .isGreaterThanOrEqualTo(before.maxPriorityFeePerGas().multiply(BigInteger.valueOf(5)));
    }

    @Test
    void aBatchNotMinedInTimeIsReplacedAtItsNonceWithHigherFeesAndConfirmedOnce(LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 1), OVERDUE);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            BatchSubmitter submitter = submitter(client, client.signer(DevAccounts.account(OPERATOR)), fixture, ledger,
                    ledger, policy(), new SettlementMetrics(meters));
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            PreparedTransaction first = ledger.openBatches().getFirst().currentTransaction().orElseThrow();
            assertThat(first.fees().maxFeePerGas()).as("priced for the quiet chain").isLessThan(CONGESTED);

            // The chain gets busy: blocks go by without the batch, the node keeps it pending.
            mineCongested(congested, REPLACE_AFTER - 1);
            assertThat(submitter.tick().outcome()).as("not overdue yet: the same bytes again")
                    .isEqualTo(TickResult.Outcome.PENDING);
            assertThat(congested.isPending(first.txHash())).isTrue();
            mineCongested(congested, 1);
            assertThat(congested.isPending(first.txHash())).isTrue();

            congested.nextBaseFee(CONGESTED);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            SettlementBatchRecord replaced = ledger.openBatches().getFirst();
            assertThat(replaced.transactions()).hasSize(2);
            PreparedTransaction second = replaced.transactions().get(1);
            assertThat(second.nonce()).as("same nonce").isEqualTo(first.nonce());
            assertRaisedByAQuarter(first.fees(), second.fees());
            assertThat(second.fees().maxFeePerGas()).as("priced for the busy chain").isGreaterThan(CONGESTED);
            assertThat(congested.isPending(second.txHash())).isTrue();
            assertThat(congested.knows(first.txHash())).as("the node dropped the replaced bytes").isFalse();

            mineCongested(congested, 1);
            assertThat(submitter.tick()).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(TickResult.Outcome.CONFIRMED, 1L);
            assertThat(client.receipt(first.txHash())).isEmpty();
            assertThat(client.broadcast(first)).as("the replaced bytes can never be mined now")
                    .isEqualTo(BroadcastOutcome.NONCE_CONSUMED);
            assertThat(ledger.confirmed().getFirst().confirmation()).map(MinedReceipt::txHash)
                    .contains(second.txHash());
            assertThat(meters.get("settlement.transactions.replaced").counter().count()).isEqualTo(1.0);
            assertThat(meters.get("settlement.fee.capped").gauge().value()).isZero();
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void theFeeCapStopsTheRisesRaisesTheAlarmAndTheCappedTransactionStillSettlesOnce(LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 2), OVERDUE);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            BigInteger quietMaxFee = policy().initial(client.feeMarket()).orElseThrow().maxFeePerGas();
            BigInteger cap = quietMaxFee.multiply(BigInteger.valueOf(3)).divide(BigInteger.TWO);
            assertThat(cap).isLessThan(CONGESTED);
            BatchSubmitter submitter = submitter(client, client.signer(DevAccounts.account(OPERATOR)), fixture, ledger,
                    ledger, policy().withMaxFeePerGasCapWei(cap), new SettlementMetrics(meters));
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);

            // Rises of at least 25% while they fit under the cap, the last one up to the cap, then none.
            List<TickResult.Outcome> outcomes = new ArrayList<>();
            while (outcomes.size() < 6 && !outcomes.contains(TickResult.Outcome.FEE_CAPPED)) {
                mineCongested(congested, REPLACE_AFTER);
                congested.nextBaseFee(CONGESTED);
                outcomes.add(submitter.tick().outcome());
            }
            assertThat(outcomes).containsExactly(TickResult.Outcome.SUBMITTED, TickResult.Outcome.SUBMITTED,
                    TickResult.Outcome.FEE_CAPPED);
            assertThat(meters.get("settlement.fee.capped").gauge().value()).isEqualTo(1.0);
            List<PreparedTransaction> attempts = ledger.openBatches().getFirst().transactions();
            assertThat(attempts).hasSize(3).allSatisfy(tx -> assertThat(tx.fees().maxFeePerGas()).isLessThanOrEqualTo(cap));
            assertRaisedByAQuarter(attempts.get(0).fees(), attempts.get(1).fees());
            assertThat(attempts.get(2).fees().maxFeePerGas()).isEqualTo(cap);
            for (int i = 0; i < 2; i++) {
                mineCongested(congested, 1);
                assertThat(submitter.tick().outcome()).as("no rise past the cap, said loudly")
                        .isEqualTo(TickResult.Outcome.FEE_CAPPED);
            }
            assertThat(ledger.openBatches().getFirst().transactions()).as("nothing new signed").hasSize(3);
            PreparedTransaction atCap = attempts.get(2);
            assertThat(congested.isPending(atCap.txHash())).isTrue();

            // The chain calms down below the cap: the capped transaction is mined.
            congested.mine(BigInteger.ONE);
            assertThat(submitter.tick()).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(TickResult.Outcome.CONFIRMED, 1L);
            assertThat(meters.get("settlement.fee.capped").gauge().value()).as("alarm cleared").isZero();
            assertThat(ledger.confirmed().getFirst().confirmation()).map(MinedReceipt::txHash)
                    .contains(atCap.txHash());
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void aFeeCapBelowTheBaseFeeSignsNothingRaisesTheAlarmAndSettlesOnceTheBaseFeeFalls(LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 3), OVERDUE);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            BatchSubmitter submitter = submitter(client, client.signer(DevAccounts.account(OPERATOR)), fixture, ledger,
                    ledger, policy().withMaxFeePerGasCapWei(gwei(3)), new SettlementMetrics(meters));
            congested.nextBaseFee(CONGESTED);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.FEE_CAPPED);
            assertThat(ledger.openBatches()).singleElement().satisfies(open -> {
                assertThat(open.state()).isEqualTo(BatchState.BUILT);
                assertThat(open.transactions()).as("nothing signed that could not be mined").isEmpty();
            });
            assertThat(meters.get("settlement.fee.capped").gauge().value()).isEqualTo(1.0);

            congested.nextBaseFee(gwei(1));
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            assertThat(ledger.openBatches().getFirst().currentTransaction().orElseThrow().fees().maxFeePerGas())
                    .isLessThanOrEqualTo(gwei(3));
            congested.mine(gwei(1));
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
            assertThat(meters.get("settlement.fee.capped").gauge().value()).isZero();
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void anEarlierAttemptMinedBeforeItsStoredReplacementIsBroadcastConfirmsTheBatchOnceAfterARestart(
            LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 4), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            Signer operator = client.signer(DevAccounts.account(OPERATOR));
            BatchSubmitter first = submitter(client, operator, fixture, store, ledger, policy(), SettlementMetrics.none());
            assertThat(first.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            mineCongested(congested, REPLACE_AFTER);
            congested.nextBaseFee(CONGESTED);
            assertThat(first.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            // Busier still: the replacement is not mined either, and is replaced in turn; the
            // process dies after storing that third transaction, before broadcasting it.
            BigInteger busier = CONGESTED.multiply(BigInteger.valueOf(10));
            for (int i = 0; i < REPLACE_AFTER; i++) {
                congested.mine(busier);
            }
            congested.nextBaseFee(busier);
            store.crashAt(FaultingBatchStore.Point.AFTER_SUBMITTED);
            assertThatThrownBy(first::tick).isInstanceOf(FaultingBatchStore.Crash.class);
            List<PreparedTransaction> attempts = ledger.openBatches().getFirst().transactions();
            assertThat(attempts).hasSize(3).extracting(PreparedTransaction::nonce).containsOnly(attempts.getFirst().nonce());
            assertThat(congested.isPending(attempts.get(1).txHash())).isTrue();
            assertThat(congested.knows(attempts.get(2).txHash())).as("stored, never broadcast").isFalse();

            // The second transaction is mined while no submitter runs.
            congested.mine(CONGESTED);
            assertThat(client.receipt(attempts.get(1).txHash())).hasValueSatisfying(
                    mined -> assertThat(mined.succeeded()).isTrue());

            BatchSubmitter restarted = submitter(client, operator, fixture, ledger, ledger, policy(),
                    SettlementMetrics.none());
            assertThat(restarted.tick()).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(TickResult.Outcome.CONFIRMED, 1L);
            assertThat(ledger.confirmed().getFirst().confirmation()).map(MinedReceipt::txHash)
                    .contains(attempts.get(1).txHash());
            assertThat(client.broadcast(attempts.get(2))).as("the stored replacement is dropped: its nonce is used")
                    .isEqualTo(BroadcastOutcome.NONCE_CONSUMED);
            assertThat(restarted.tick().outcome()).isEqualTo(TickResult.Outcome.IDLE);
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void anOriginalMinedBetweenStoringItsReplacementAndBroadcastingItConfirmsTheBatchOnceAndTheReplacementIsDropped(
            LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 7), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            BatchSubmitter submitter = submitter(client, client.signer(DevAccounts.account(OPERATOR)), fixture, store,
                    ledger, policy(), SettlementMetrics.none());
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            PreparedTransaction original = ledger.openBatches().getFirst().currentTransaction().orElseThrow();
            mineCongested(congested, REPLACE_AFTER);
            congested.nextBaseFee(CONGESTED);
            // Right after the replacement is stored, before it is sent, the base fee drops and a
            // block takes the original.
            store.arm(FaultingBatchStore.Point.AFTER_SUBMITTED, () -> congested.mine(BigInteger.ONE));
            assertThat(submitter.tick()).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(TickResult.Outcome.CONFIRMED, 1L);
            SettlementBatchRecord confirmed = ledger.confirmed().getFirst();
            assertThat(confirmed.transactions()).hasSize(2);
            PreparedTransaction replacement = confirmed.transactions().get(1);
            assertThat(confirmed.confirmation()).map(MinedReceipt::txHash).contains(original.txHash());
            assertThat(client.receipt(replacement.txHash())).isEmpty();
            assertThat(congested.knows(replacement.txHash())).as("the node refused the replacement").isFalse();
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.IDLE);
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void aReplacementWhoseOriginalWasMinedAndFailedRefusesTheBatchAndItsMovementsSettleOnceUnderTheSameId(
            LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 5), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            Signer operator = client.signer(DevAccounts.account(OPERATOR));
            BatchSubmitter first = submitter(client, operator, fixture, store, ledger, policy(), SettlementMetrics.none());
            assertThat(first.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            mineCongested(congested, REPLACE_AFTER);
            congested.nextBaseFee(CONGESTED);
            store.crashAt(FaultingBatchStore.Point.AFTER_SUBMITTED);
            assertThatThrownBy(first::tick).isInstanceOf(FaultingBatchStore.Crash.class);
            List<PreparedTransaction> attempts = ledger.openBatches().getFirst().transactions();
            assertThat(attempts).hasSize(2);

            // Meanwhile the vault is paused, and then the original is mined: it fails.
            adminCall(client, fixture, "pause", congested);
            congested.mine(BigInteger.ONE);
            assertThat(client.receipt(attempts.getFirst().txHash())).hasValueSatisfying(
                    mined -> assertThat(mined.status()).isEqualTo(MinedReceipt.Status.FAILED));

            BatchSubmitter restarted = submitter(client, operator, fixture, ledger, ledger, policy(),
                    SettlementMetrics.none());
            assertThat(restarted.tick()).as("the failed original is the vault's answer, not a consumed nonce")
                    .isEqualTo(new TickResult(TickResult.Outcome.REVERTED, 1, 10, 0));
            assertThat(ledger.backlog().count()).as("released").isEqualTo(10);

            adminCall(client, fixture, "unpause", congested);
            congested.mine(BigInteger.ONE);
            assertThat(restarted.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            congested.mine(BigInteger.ONE);
            assertThat(restarted.tick()).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(TickResult.Outcome.CONFIRMED, 1L);
            assertThat(client.broadcast(attempts.get(1))).isEqualTo(BroadcastOutcome.NONCE_CONSUMED);
            assertThat(ledger.rows()).extracting(SettlementBatchRecord::batchId, SettlementBatchRecord::state)
                    .containsExactly(tuple(1L, BatchState.REVERTED), tuple(1L, BatchState.CONFIRMED));
            assertThat(ledger.rows().getFirst().failure()).hasValueSatisfying(failure -> assertThat(failure)
                    .contains(attempts.getFirst().txHash().value(), "failed"));
            assertThat(ledger.quarantined()).isEmpty();
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void aStuckSettlementTransactionNeverDelaysAnotherSignerLane(LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(ring(fixture, 6), OVERDUE);
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            SignerLanes lanes = SignerLanes.of(
                    new SignerLane(SignerLane.SETTLEMENT, client.signer(DevAccounts.account(OPERATOR))),
                    new SignerLane("watchtower", client.signer(DevAccounts.account(OTHER_LANE))));
            SignerLane settlement = lanes.lane(SignerLane.SETTLEMENT);
            SignerLane watchtower = lanes.lane("watchtower");
            BatchSubmitter submitter = submitter(client, settlement.signer(), fixture, ledger, ledger, policy(),
                    SettlementMetrics.none());
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            PreparedTransaction batch = ledger.openBatches().getFirst().currentTransaction().orElseThrow();
            congested.mine(CONGESTED);
            assertThat(congested.isPending(batch.txHash())).as("the settlement lane is stuck").isTrue();

            // A well-paid transaction on the settlement key waits behind the stuck batch ...
            GasFees wellPaid = new GasFees(CONGESTED.multiply(BigInteger.valueOf(3)), gwei(2));
            PreparedTransaction behindTheBatch = client.prepare(settlement.signer().credentials(),
                    watchtower.address(), "0x", batch.nonce() + 1, wellPaid);
            assertThat(client.broadcast(behindTheBatch)).isEqualTo(BroadcastOutcome.ACCEPTED);
            // ... while the other lane's, on its own key and nonce sequence, is mined in the next block.
            PreparedTransaction challenge = client.prepare(watchtower.signer().credentials(), settlement.address(),
                    "0x", client.pendingNonce(watchtower.address()), wellPaid);
            assertThat(client.broadcast(challenge)).isEqualTo(BroadcastOutcome.ACCEPTED);
            congested.mine(CONGESTED);
            assertThat(client.receipt(challenge.txHash())).as("the watchtower lane goes on").isPresent();
            assertThat(client.receipt(behindTheBatch.txHash())).as("one key is one queue").isEmpty();
            assertThat(congested.isPending(batch.txHash())).isTrue();

            // The settlement lane's own remedy: the batch is replaced, then both of its transactions are mined.
            congested.nextBaseFee(CONGESTED);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.SUBMITTED);
            congested.mine(CONGESTED);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
            assertThat(client.receipt(behindTheBatch.txHash())).isPresent();
            assertAppliedOnce(chain, fixture, ledger);
        }
    }

    @Test
    void aPendingAccountRegistrationIsFollowedAndReplacedWhenStuckNeverJoinedByAnotherAtTheNextNonce(LocalChain chain) {
        Fixture fixture = fixture(chain);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        Address earner = Movements.address("ea7e", 77);
        ledger.commit(new SettlementMovement.Transfer(TransferId.of(0x5EA7), fixture.token().address(),
                fixture.agents().getFirst(), earner, Amount.of(700)), OVERDUE);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ChainClient client = operatorClient(chain); CongestedChain congested = CongestedChain.start(chain.client())) {
            Signer operator = client.signer(DevAccounts.account(OPERATOR));
            long nonce = client.minedNonce(operator.address());
            BatchSubmitter submitter = submitter(client, operator, fixture, ledger, ledger, policy(),
                    new SettlementMetrics(meters));
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.REGISTERING);
            assertThat(client.pendingNonce(operator.address())).isEqualTo(nonce + 1);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.REGISTERING);
            assertThat(client.pendingNonce(operator.address())).as("no second registration queued behind the first")
                    .isEqualTo(nonce + 1);

            // Busy blocks go by without it: it is replaced at its nonce, then mined.
            mineCongested(congested, REPLACE_AFTER);
            congested.nextBaseFee(CONGESTED);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.REGISTERING);
            assertThat(meters.get("settlement.transactions.replaced").counter().count()).isEqualTo(1.0);
            mineCongested(congested, 1);
            assertThat(fixture.vault().knowsAccount(earner)).isTrue();
            assertThat(submitter.tick().outcome()).as("registered; the batch goes out")
                    .isEqualTo(TickResult.Outcome.SUBMITTED);
            mineCongested(congested, 1);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
            assertThat(client.minedNonce(operator.address())).as("one registration and one batch")
                    .isEqualTo(nonce + 2);
            assertThat(fixture.vault().settledBalance(fixture.token().address(), earner)).isEqualTo(Amount.of(700));
            assertThat(meters.get("settlement.accounts.registered").counter().count()).isEqualTo(1.0);
        }
    }

    /** Sends {@code pause()} or {@code unpause()} as the admin, priced above the congestion, and mines it. */
    private static void adminCall(ChainClient client, Fixture fixture, String function, CongestedChain congested) {
        Signer admin = client.signer(DevAccounts.account(LocalChain.ADMIN));
        PreparedTransaction call = client.prepare(admin.credentials(), fixture.vault().address(),
                FunctionEncoder.encode(new Function(function, List.of(), List.of())),
                client.pendingNonce(admin.address()), new GasFees(CONGESTED.multiply(BigInteger.TWO), gwei(2)));
        assertThat(client.broadcast(call)).isEqualTo(BroadcastOutcome.ACCEPTED);
        congested.mine(CONGESTED);
        assertThat(client.receipt(call.txHash())).hasValueSatisfying(mined -> assertThat(mined.succeeded()).isTrue());
    }
}
