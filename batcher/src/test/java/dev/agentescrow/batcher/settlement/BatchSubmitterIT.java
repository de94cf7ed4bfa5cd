package dev.agentescrow.batcher.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.tuple;

import dev.agentescrow.batcher.chain.ChainUnavailableException;
import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.FaultyRpcProxy;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.TokenLimits;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The submitter against a real Hardhat node: each test deploys its own token and vault (operator:
 * dev account 19, used only through this test's own clients), agents 3 to 10 deposit, a seeded
 * random ledger is fed to the in-memory ledger, and ticks run until nothing is left. After
 * crashes, a suspended node, injected RPC faults or a refused batch, every batch id must be
 * applied exactly once, every movement settled once (or quarantined and reported), and the
 * vault's balances must equal deposits plus nets, checked against a model kept here.
 */
@ExtendWith(LocalChainExtension.class)
class BatchSubmitterIT {
    private static final Logger log = LoggerFactory.getLogger(BatchSubmitterIT.class);
    private static final long SEED = Long.getLong("submitter.seed", 20261123L);
    private static final int OPERATOR = 19;
    private static final int FIRST_AGENT = 3;
    private static final int AGENTS = 8;
    private static final Amount DEPOSIT = Amount.tokens(1_000, 6);
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    private static final Instant OVERDUE = NOW.minus(Duration.ofHours(1));
    private static final Duration MAX_DELAY = Duration.ofSeconds(300);
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(1);
    private static final int MAX_TICKS = 40;

    /** One test's world: its own token and vault, agents that deposited, fresh payout recipients. */
    private record Fixture(LocalChain chain, Erc20Token token, SettlementVaultGateway vault, List<Address> agents,
                           List<Address> recipients, long fromBlock) {
    }

    /** A lock that is either free for this submitter or held elsewhere. */
    private static final class TestLock implements SingleSubmitterLock {
        private final boolean available;
        private int held;

        TestLock(boolean available) {
            this.available = available;
        }

        @Override
        public boolean tryAcquire() {
            if (available) {
                held++;
            }
            return available;
        }

        @Override
        public void release() {
            if (held == 0) {
                throw new IllegalStateException("released without holding");
            }
            held--;
        }
    }

    private static RpcResilienceConfig retries(int attempts) {
        return new RpcResilienceConfig(attempts, Duration.ofMillis(5), 2.0, Duration.ofMillis(50), 0.5, 50f, 50,
                Duration.ofSeconds(30), 1);
    }

    private static Fixture fixture(LocalChain chain, boolean deposit) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Submitter USD", "SUSD", 6);
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                Address.of(DevAccounts.account(OPERATOR).getAddress()), Duration.ofDays(7));
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        List<Address> agents = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            Signer agent = chain.account(FIRST_AGENT + i);
            agents.add(agent.address());
            if (deposit) {
                token.mint(admin, agent.address(), DEPOSIT);
                vault.deposit(agent, token.address(), DEPOSIT);
            }
        }
        List<Address> recipients = List.of(Movements.address("beef", 1), Movements.address("beef", 2),
                Movements.address("beef", 3));
        return new Fixture(chain, token, vault, agents, recipients, chain.client().blockNumber());
    }

    private static ChainClient operatorClient(String rpcUrl) {
        return ChainClient.connect(ChainSettings.local(rpcUrl), HTTP_TIMEOUT);
    }

    /** A submitter whose batches take at most {@code maxTransfers} movements, due once that many wait. */
    private static BatchSubmitter submitter(ChainClient client, Fixture fixture, BatchStore store,
                                            SettlementSource source, int maxTransfers, Instant now, int attempts) {
        return submitter(client, fixture, store, source, maxTransfers, new BatchPlanner(maxTransfers), now, attempts);
    }

    private static BatchSubmitter submitter(ChainClient client, Fixture fixture, BatchStore store,
                                            SettlementSource source, int maxTransfers, BatchPlanner planner,
                                            Instant now, int attempts) {
        SettlementChain chain = new SettlementChain(client, new SettlementVaultGateway(client, fixture.vault().address()),
                client.signer(DevAccounts.account(OPERATOR)), new ResilientRpc("submitter", retries(attempts)));
        return new BatchSubmitter(chain, store, source, new TestLock(true),
                new BatchTrigger(maxTransfers, MAX_DELAY, Clock.fixed(now, ZoneOffset.UTC)), planner);
    }

    /** Random transfers and withdrawals that never overdraw an agent, ids tagged with {@code tag}. */
    private static List<SettlementMovement> workload(Random random, Fixture fixture, int count, int withdrawalPercent,
                                                     long tag) {
        Map<Address, BigInteger> balances = new HashMap<>();
        fixture.agents().forEach(agent -> balances.put(agent, DEPOSIT.baseUnits()));
        List<SettlementMovement> movements = new ArrayList<>();
        Address token = fixture.token().address();
        while (movements.size() < count) {
            Address from = fixture.agents().get(random.nextInt(AGENTS));
            BigInteger balance = balances.get(from);
            if (balance.signum() == 0) {
                continue;
            }
            BigInteger amount = new BigInteger(balance.bitLength(), random).mod(balance.shiftRight(2).max(BigInteger.ONE))
                    .add(BigInteger.ONE);
            TransferId id = TransferId.of(BigInteger.valueOf(tag).shiftLeft(64)
                    .add(BigInteger.valueOf(movements.size() + 1)));
            if (random.nextInt(100) < withdrawalPercent) {
                Address recipient = fixture.recipients().get(random.nextInt(fixture.recipients().size()));
                movements.add(new SettlementMovement.Withdrawal(id, token, from, recipient, Amount.of(amount)));
                balances.merge(from, amount.negate(), BigInteger::add);
            } else {
                Address to = fixture.agents().get(random.nextInt(AGENTS));
                if (to.equals(from)) {
                    continue;
                }
                movements.add(new SettlementMovement.Transfer(id, token, from, to, Amount.of(amount)));
                balances.merge(from, amount.negate(), BigInteger::add);
                balances.merge(to, amount, BigInteger::add);
            }
        }
        return movements;
    }

    private static List<TickResult> tickUntilIdle(BatchSubmitter submitter) {
        List<TickResult> results = new ArrayList<>();
        for (int i = 0; i < MAX_TICKS; i++) {
            TickResult result = submitter.tick();
            results.add(result);
            if (result.outcome() == TickResult.Outcome.IDLE || result.outcome() == TickResult.Outcome.WAITING) {
                return results;
            }
        }
        return fail("not idle after %d ticks: %s", MAX_TICKS, results);
    }

    /**
     * Every batch id applied once, in order, by a confirmed row with the same root; every committed
     * movement settled exactly once unless quarantined; balances and payouts as the model says.
     */
    private static List<BatchSettled> assertSettledExactlyOnce(Fixture fixture, InMemorySettlementLedger ledger) {
        SettlementVaultGateway vault = fixture.vault();
        long last = vault.lastBatchId();
        List<BatchSettled> events = vault.batchesSettledBetween(fixture.fromBlock(), fixture.chain().client().blockNumber());
        List<Long> ids = LongStream.rangeClosed(1, last).boxed().toList();
        assertThat(events).extracting(BatchSettled::batchId).as("BatchSettled events").containsExactlyElementsOf(ids);
        List<SettlementBatchRecord> confirmed = ledger.confirmed();
        assertThat(confirmed).extracting(SettlementBatchRecord::batchId).containsExactlyElementsOf(ids);
        assertThat(confirmed).extracting(row -> row.batch().merkleRoot())
                .containsExactlyElementsOf(events.stream().map(BatchSettled::merkleRoot).toList());
        assertThat(ledger.openBatches()).isEmpty();

        Set<TransferId> quarantined = ledger.quarantined().keySet();
        List<SettlementMovement> expectedSettled = ledger.committedMovements().stream()
                .filter(movement -> !quarantined.contains(movement.transferId())).toList();
        List<TransferId> inConfirmedBatches = confirmed.stream()
                .flatMap(row -> row.batch().movements().stream()).map(SettlementMovement::transferId).toList();
        assertThat(inConfirmedBatches).as("no movement settled twice").doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(expectedSettled.stream().map(SettlementMovement::transferId).toList());
        assertThat(ledger.settledIds()).isEqualTo(new HashSet<>(inConfirmedBatches));
        assertThat(ledger.backlog()).isEqualTo(UnsettledBacklog.EMPTY);

        Map<Address, BigInteger> balances = new HashMap<>();
        fixture.agents().forEach(agent -> balances.put(agent, DEPOSIT.baseUnits()));
        Map<Address, BigInteger> paid = new HashMap<>();
        fixture.recipients().forEach(recipient -> paid.put(recipient, BigInteger.ZERO));
        for (SettlementMovement movement : expectedSettled) {
            BigInteger amount = movement.amount().baseUnits();
            switch (movement) {
                case SettlementMovement.Transfer t -> {
                    balances.merge(t.from(), amount.negate(), BigInteger::add);
                    balances.merge(t.to(), amount, BigInteger::add);
                }
                case SettlementMovement.Withdrawal w -> {
                    balances.merge(w.account(), amount.negate(), BigInteger::add);
                    paid.merge(w.recipient(), amount, BigInteger::add);
                }
            }
        }
        Address token = fixture.token().address();
        BigInteger total = BigInteger.ZERO;
        for (Address agent : fixture.agents()) {
            assertThat(vault.settledBalance(token, agent).baseUnits()).as("settled balance of %s", agent)
                    .isEqualTo(balances.get(agent));
            total = total.add(balances.get(agent));
        }
        for (Address recipient : fixture.recipients()) {
            assertThat(fixture.token().balanceOf(recipient).baseUnits()).as("paid to %s", recipient)
                    .isEqualTo(paid.get(recipient));
        }
        assertThat(fixture.token().balanceOf(vault.address()).baseUnits()).as("vault holds the settled balances")
                .isEqualTo(total);
        return events;
    }

    @Test
    void settlesARandomLedgerInBatchesOfAtMostNWithProofsTheVaultAccepts(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        List<SettlementMovement> movements = workload(new Random(SEED), fixture, 250, 5, SEED);
        ledger.commitAll(movements, NOW);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 100, NOW, 4);
            assertThat(tickUntilIdle(submitter)).extracting(TickResult::outcome, TickResult::movements)
                    .as("two full batches, then the rest waits for the delay (seed %d)", SEED)
                    .containsExactly(
                            tuple(TickResult.Outcome.CONFIRMED, 100),
                            tuple(TickResult.Outcome.CONFIRMED, 100),
                            tuple(TickResult.Outcome.WAITING, 0));

            BatchSubmitter later = submitter(client, fixture, ledger, ledger, 100, NOW.plus(MAX_DELAY), 4);
            assertThat(tickUntilIdle(later)).extracting(TickResult::outcome, TickResult::movements).containsExactly(
                    tuple(TickResult.Outcome.CONFIRMED, 50),
                    tuple(TickResult.Outcome.IDLE, 0));

            List<BatchSettled> events = assertSettledExactlyOnce(fixture, ledger);
            assertThat(events).hasSize(3);
            assertThat(ledger.settledCalls()).containsExactly(1L, 2L, 3L);
            for (int i = 0; i < movements.size(); i += 7) {
                TransferId id = movements.get(i).transferId();
                InclusionProof proof = later.proof(id).orElseThrow();
                TransferLeaf leaf = proof.leaf();
                Bytes32 root = events.get((int) proof.batchId() - 1).merkleRoot();
                assertThat(proof.merkleRoot()).isEqualTo(root);
                assertThat(fixture.vault().verifyTransfer(proof.batchId(), proof.proof(), leaf.transferId().toBytes32(), leaf.token(),
                        leaf.from(), leaf.to(), leaf.amount())).as("proof of movement %d", i).isTrue();
            }
        }
    }

    @Test
    void settlementKeepsUp_aBacklogOfAThousandWithNOfAHundredSettlesInOneBatch(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED), fixture, 1_000, 2, SEED), NOW);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            // the trigger's N says when a batch is due; the batch takes what the vault and the gas budget allow
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 100, BatchPlanner.withDefaults(),
                    NOW, 4);
            assertThat(tickUntilIdle(submitter)).extracting(TickResult::outcome, TickResult::movements)
                    .containsExactly(tuple(TickResult.Outcome.CONFIRMED, 1_000), tuple(TickResult.Outcome.IDLE, 0));
        }
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(1);
        report("dense", ledger.confirmed());
    }

    /**
     * The worst case of {@link BatchGas}: payouts to fresh recipients and credits to fresh accounts,
     * each in a balance slot written from zero. Every batch stays within its bound and the budget.
     */
    @Test
    void aBatchOfFreshAccountsStaysWithinItsGasBoundAndTheBudget(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        Address token = fixture.token().address();
        Address payer = fixture.agents().getFirst();
        List<SettlementMovement> movements = new ArrayList<>();
        for (int i = 0; i < SettlementBatch.MAX_PAYOUTS; i++) {
            movements.add(new SettlementMovement.Withdrawal(TransferId.of(movements.size() + 1L), token,
                    payer, Movements.address("fee1", i), Amount.of(1)));
        }
        movements.addAll(credits(movements.size() + 1L, token, payer, "f2e5", 1_100));
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(movements, OVERDUE);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 100, BatchPlanner.withDefaults(),
                    NOW, 4);
            tickUntilIdle(submitter);
        }
        List<SettlementBatchRecord> confirmed = ledger.confirmed();
        assertThat(confirmed.stream().mapToInt(row -> row.batch().movementCount()).sum()).isEqualTo(movements.size());
        for (SettlementBatchRecord row : confirmed) {
            long gasUsed = row.confirmation().orElseThrow().gasUsed();
            assertThat(gasUsed).as("batch %d within its bound", row.batchId()).isLessThanOrEqualTo(bound(row));
            assertThat(bound(row)).isLessThanOrEqualTo(BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
        }
        report("fresh accounts", confirmed);
    }

    /**
     * Credits to accounts whose settled balance is not zero write non-zero slots: the submitter
     * reads those balances when the gas bound would close a batch early, and counts such credits
     * at {@link BatchGas#FUNDED_ENTRY}. 800 credits to fresh accounts take two batches; 800 more
     * to the same (now funded) accounts take one, within the bound that counts them funded.
     */
    @Test
    void creditsToFundedAccountsFillOneBatchWithinTheFundedBound(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        Address token = fixture.token().address();
        Address payer = fixture.agents().getFirst();
        int accounts = 800;
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(credits(1, token, payer, "f00d", accounts), OVERDUE);
        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 100, BatchPlanner.withDefaults(),
                    NOW, 4);
            tickUntilIdle(submitter);
            assertThat(ledger.confirmed()).extracting(row -> row.batch().movementCount()).containsExactly(572, 228);
            ledger.commitAll(credits(accounts + 1L, token, payer, "f00d", accounts), OVERDUE);
            tickUntilIdle(submitter);
        }
        List<SettlementBatchRecord> confirmed = ledger.confirmed();
        assertThat(confirmed).extracting(row -> row.batch().movementCount()).containsExactly(572, 228, accounts);
        SettlementBatchRecord funded = confirmed.getLast();
        SettlementBatch batch = funded.batch().settlementBatch();
        long fundedBound = BatchGas.estimate(batch.entryCount(), 0, 0, batch.tokens().size());
        assertThat(bound(funded)).isGreaterThan(BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
        assertThat(fundedBound).isLessThanOrEqualTo(BatchGas.DEFAULT_MAX_GAS_PER_BATCH);
        assertThat(funded.confirmation().orElseThrow().gasUsed()).isLessThanOrEqualTo(fundedBound);
        assertThat(confirmed.stream().flatMap(row -> row.batch().movements().stream())
                .map(SettlementMovement::transferId).toList()).as("each movement settled once")
                .doesNotHaveDuplicates().hasSize(2 * accounts);
        for (int i : new int[] {0, 399, accounts - 1}) {
            assertThat(fixture.vault().settledBalance(token, Movements.address("f00d", i)))
                    .isEqualTo(Amount.of(2));
        }
        report("funded accounts", confirmed);
    }

    /** {@code count} transfers of 1 from {@code payer} to the addresses {@code prefix} 0, 1, ..., ids from {@code firstId}. */
    private static List<SettlementMovement> credits(long firstId, Address token, Address payer, String prefix,
                                                    int count) {
        List<SettlementMovement> credits = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            credits.add(new SettlementMovement.Transfer(TransferId.of(firstId + i), token, payer,
                    Movements.address(prefix, i), Amount.of(1)));
        }
        return credits;
    }

    private static long bound(SettlementBatchRecord row) {
        SettlementBatch batch = row.batch().settlementBatch();
        int payouts = batch.tokens().stream().mapToInt(t -> t.payouts().size()).sum();
        int entries = batch.tokens().stream().mapToInt(t -> t.deltas().size()).sum() + payouts;
        return BatchGas.estimate(entries, payouts, batch.tokens().size());
    }

    private static void report(String workload, List<SettlementBatchRecord> confirmed) {
        for (SettlementBatchRecord row : confirmed) {
            SettlementBatch batch = row.batch().settlementBatch();
            long gasUsed = row.confirmation().orElseThrow().gasUsed();
            int payouts = batch.tokens().stream().mapToInt(t -> t.payouts().size()).sum();
            int deltas = batch.tokens().stream().mapToInt(t -> t.deltas().size()).sum();
            log.info("batch size ({}): batch {}: {} movements, {} deltas, {} payouts, {} tokens: {} gas ({} per "
                    + "movement), bound {}", workload, row.batchId(), row.batch().movementCount(), deltas, payouts,
                    batch.tokens().size(), gasUsed, gasUsed / row.batch().movementCount(), bound(row));
        }
    }

    /** Where the first submitter process dies while settling batch 2. */
    enum CrashPoint {
        BUILT_NOT_SUBMITTED, SUBMITTED_NOT_BROADCAST, BROADCAST_ANSWER_LOST, CONFIRMED_NOT_RECORDED
    }

    @ParameterizedTest
    @EnumSource(CrashPoint.class)
    void aSubmitterRestartedAfterACrashSettlesEveryBatchExactlyOnce(CrashPoint crash, LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + crash.ordinal()), fixture, 30, 10, SEED + crash.ordinal()), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);

        try (FaultyRpcProxy proxy = FaultyRpcProxy.start(chain.rpcUrl())) {
            try (ChainClient client = operatorClient(proxy.rpcUrl())) {
                // one attempt per call: a lost answer ends the tick like a process dying mid-call
                BatchSubmitter first = submitter(client, fixture, store, ledger, 10, NOW, 1);
                assertThat(first.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
                switch (crash) {
                    case BUILT_NOT_SUBMITTED -> store.crashAt(FaultingBatchStore.Point.BEFORE_SUBMITTED);
                    case SUBMITTED_NOT_BROADCAST -> store.crashAt(FaultingBatchStore.Point.AFTER_SUBMITTED);
                    case BROADCAST_ANSWER_LOST -> proxy.loseResponseNext("eth_sendRawTransaction", 1);
                    case CONFIRMED_NOT_RECORDED -> store.crashAt(FaultingBatchStore.Point.BEFORE_CONFIRMED);
                }
                assertThatThrownBy(first::tick).isInstanceOfAny(FaultingBatchStore.Crash.class,
                        ChainUnavailableException.class);
            }
            SettlementBatchRecord open = ledger.openBatches().getFirst();
            assertThat(open.batchId()).isEqualTo(2);
            assertThat(open.state()).isEqualTo(crash == CrashPoint.BUILT_NOT_SUBMITTED ? BatchState.BUILT
                    : BatchState.SUBMITTED);
            boolean appliedBeforeRestart = crash == CrashPoint.BROADCAST_ANSWER_LOST
                    || crash == CrashPoint.CONFIRMED_NOT_RECORDED;
            assertThat(fixture.vault().lastBatchId()).isEqualTo(appliedBeforeRestart ? 2 : 1);

            try (ChainClient client = operatorClient(proxy.rpcUrl())) {
                BatchSubmitter restarted = submitter(client, fixture, ledger, ledger, 10, NOW, 4);
                List<TickResult> results = tickUntilIdle(restarted);
                assertThat(results.getFirst()).extracting(TickResult::outcome, TickResult::batchId)
                        .containsExactly(TickResult.Outcome.CONFIRMED, 2L);
            }
        }
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(3);
        assertThat(ledger.rows()).hasSize(3);
    }

    @Test
    void accountsThatNeverDepositedAreRegisteredOnceThenCreditedAndPaidOut(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        Address token = fixture.token().address();
        Address earner = Movements.address("ea7e", 1);
        Address otherEarner = Movements.address("ea7e", 2);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(List.of(
                new SettlementMovement.Transfer(TransferId.of(0xEA01), token, fixture.agents().get(0), earner,
                        Amount.of(700)),
                new SettlementMovement.Transfer(TransferId.of(0xEA02), token, fixture.agents().get(1),
                        otherEarner, Amount.of(300)),
                new SettlementMovement.Withdrawal(TransferId.of(0xEA03), token, earner,
                        fixture.recipients().getFirst(), Amount.of(200))), OVERDUE);
        assertThat(fixture.vault().knowsAccount(earner)).isFalse();

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 10, NOW, 2);
            assertThat(submitter.tick().outcome()).as("registered, then settled in the same tick")
                    .isEqualTo(TickResult.Outcome.CONFIRMED);
        }
        SettlementVaultGateway vault = fixture.vault();
        assertThat(vault.knowsAccount(earner)).isTrue();
        assertThat(vault.knowsAccount(otherEarner)).isTrue();
        assertThat(vault.settledBalance(token, earner)).isEqualTo(Amount.of(500));
        assertThat(vault.settledBalance(token, otherEarner)).isEqualTo(Amount.of(300));
        assertThat(fixture.token().balanceOf(fixture.recipients().getFirst())).isEqualTo(Amount.of(200));
        assertThat(vault.lastBatchId()).isEqualTo(1);
        assertThat(vault.batchesSettledBetween(fixture.fromBlock(), chain.client().blockNumber()))
                .singleElement().extracting(BatchSettled::batchId).isEqualTo(1L);
        assertThat(ledger.openBatches()).isEmpty();
        assertThat(fixture.token().balanceOf(vault.address()).baseUnits()).as("the deposits less the payout")
                .isEqualTo(DEPOSIT.baseUnits().multiply(BigInteger.valueOf(AGENTS)).subtract(BigInteger.valueOf(200)));
    }

    @Test
    void aBatchInFlightWhileTheNodeIsSuspendedSettlesOnceAfterItResumes(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 10), fixture, 20, 10, SEED + 10), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, store, ledger, 10, NOW, 2);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
            store.arm(FaultingBatchStore.Point.AFTER_SUBMITTED, () -> chain.node().suspend());
            try {
                assertThatThrownBy(submitter::tick).isInstanceOf(ChainUnavailableException.class);
                assertThatThrownBy(submitter::tick).isInstanceOf(ChainUnavailableException.class);
                assertThat(ledger.openBatches()).singleElement()
                        .satisfies(open -> assertThat(open.state()).isEqualTo(BatchState.SUBMITTED));
            } finally {
                chain.node().resume();
            }
            List<TickResult> results = tickUntilIdle(submitter);
            assertThat(results.getFirst()).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(TickResult.Outcome.CONFIRMED, 2L);
        }
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(2);
    }

    @Test
    void injectedRpcFailuresAndALostBroadcastAnswerAreRetriedWithoutASecondSettlement(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 20), fixture, 30, 10, SEED + 20), OVERDUE);

        try (FaultyRpcProxy proxy = FaultyRpcProxy.start(chain.rpcUrl());
             ChainClient client = operatorClient(proxy.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 10, NOW, 5);
            proxy.failNext(FaultyRpcProxy.ANY, 3);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
            proxy.loseResponseNext("eth_sendRawTransaction", 1);
            proxy.failNext("eth_getTransactionReceipt", 2);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
            proxy.failNext(FaultyRpcProxy.ANY, 4);
            tickUntilIdle(submitter);
            assertThat(proxy.forwardedCount("eth_sendRawTransaction")).as("the lost answer's retry reached the node")
                    .isEqualTo(4);
        }
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(3);
    }

    @ParameterizedTest
    @EnumSource(value = FaultingBatchStore.Point.class, names = {"BEFORE_REFUSED", "AFTER_REFUSED"})
    void F2_aCrashAroundARefusalLeavesEveryMovementSettledOnceOrQuarantined(FaultingBatchStore.Point point,
                                                                          LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        List<SettlementMovement> good = workload(new Random(SEED + 90), fixture, 9, 20, SEED + 90);
        SettlementMovement overdraft = new SettlementMovement.Transfer(TransferId.of(BigInteger.valueOf(9_999)),
                fixture.token().address(), fixture.agents().get(0), fixture.agents().get(1),
                Amount.of(DEPOSIT.baseUnits().multiply(BigInteger.valueOf(5))));
        ledger.commitAll(good.subList(0, 4), OVERDUE);
        ledger.commit(overdraft, OVERDUE);
        ledger.commitAll(good.subList(4, good.size()), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);
        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            store.crashAt(point);
            assertThatThrownBy(submitter(client, fixture, store, ledger, 100, NOW, 4)::tick)
                    .isInstanceOf(FaultingBatchStore.Crash.class);
            // Before: nothing of the refusal happened (the row is open, every movement claimed). After: all of it.
            if (point == FaultingBatchStore.Point.BEFORE_REFUSED) {
                assertThat(ledger.openBatches()).hasSize(1);
                assertThat(ledger.backlog().count()).isZero();
            } else {
                assertThat(ledger.openBatches()).isEmpty();
                assertThat(ledger.backlog().count()).isEqualTo(9);
            }
            BatchSubmitter restarted = submitter(client, fixture, ledger, ledger, 100, NOW, 4);
            List<TickResult> ticks = tickUntilIdle(restarted);
            assertThat(ticks.getLast().outcome()).isEqualTo(TickResult.Outcome.IDLE);
        }
        assertThat(ledger.rows()).extracting(SettlementBatchRecord::batchId, SettlementBatchRecord::state).containsExactly(
                tuple(1L, BatchState.REVERTED),
                tuple(1L, BatchState.CONFIRMED));
        assertThat(ledger.quarantined()).containsOnlyKeys(overdraft.transferId());
        assertThat(ledger.settledCalls()).containsExactly(1L);
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(1);
    }

    @Test
    void aBatchTheVaultRefusesIsRevertedItsCulpritQuarantinedAndTheRestSettledUnderTheSameId(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        List<SettlementMovement> good = workload(new Random(SEED + 30), fixture, 9, 20, SEED + 30);
        // inconsistent with the chain: spends five times what the agent ever deposited
        SettlementMovement overdraft = new SettlementMovement.Transfer(TransferId.of(BigInteger.valueOf(7_777)),
                fixture.token().address(), fixture.agents().get(0), fixture.agents().get(1),
                Amount.of(DEPOSIT.baseUnits().multiply(BigInteger.valueOf(5))));
        ledger.commitAll(good.subList(0, 5), OVERDUE);
        ledger.commit(overdraft, OVERDUE);
        ledger.commitAll(good.subList(5, good.size()), OVERDUE);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 100, NOW, 4);
            TickResult refused = submitter.tick();
            assertThat(refused).isEqualTo(new TickResult(TickResult.Outcome.REVERTED, 1, 10, 1));
            assertThat(ledger.quarantined()).containsOnlyKeys(overdraft.transferId());
            assertThat(ledger.backlog().count()).as("the other movements are released").isEqualTo(9);

            assertThat(tickUntilIdle(submitter)).extracting(TickResult::outcome, TickResult::batchId, TickResult::movements)
                    .containsExactly(tuple(TickResult.Outcome.CONFIRMED, 1L, 9),
                            tuple(TickResult.Outcome.IDLE, 0L, 0));
        }
        assertThat(ledger.rows()).extracting(SettlementBatchRecord::batchId, SettlementBatchRecord::state).containsExactly(
                tuple(1L, BatchState.REVERTED),
                tuple(1L, BatchState.CONFIRMED));
        assertThat(ledger.rows().getFirst().failure()).hasValueSatisfying(failure -> assertThat(failure)
                .contains("refused at gas estimation", "VaultInsufficientBalance", overdraft.transferId().toString()));
        assertThat(ledger.quarantined().get(overdraft.transferId())).contains("settled balance");
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(1);
    }

    @Test
    void F8_aBatchIsConfirmedOnlyAtTheConfiguredDepthAndIsSentAgainAfterAReorg(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 80), fixture, 10, 20, SEED + 80), OVERDUE);
        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            SettlementChain settlementChain = new SettlementChain(client,
                    new SettlementVaultGateway(client, fixture.vault().address()),
                    client.signer(DevAccounts.account(OPERATOR)), new ResilientRpc("submitter", retries(4)));
            BatchSubmitter submitter = new BatchSubmitter(settlementChain, ledger, ledger, new TestLock(true),
                    new BatchTrigger(100, MAX_DELAY, Clock.fixed(NOW, ZoneOffset.UTC)), BatchPlanner.withDefaults(),
                    SettlementMetrics.none(), 3);
            String snapshot = client.rawRequest("evm_snapshot", List.of()).replace("\"", "");
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMING);
            assertThat(fixture.vault().lastBatchId()).isEqualTo(1);
            assertThat(ledger.openBatches()).singleElement().extracting(SettlementBatchRecord::state)
                    .isEqualTo(BatchState.SUBMITTED);

            // A reorg drops the block with the batch: nothing was booked, the same bytes go out again.
            client.rawRequest("evm_revert", List.of(snapshot));
            assertThat(fixture.vault().lastBatchId()).isZero();
            assertThat(ledger.settledCalls()).isEmpty();
            TickResult again = submitter.tick();
            for (int i = 0; i < 3 && again.outcome() != TickResult.Outcome.CONFIRMING; i++) {
                assertThat(again.outcome()).isIn(TickResult.Outcome.SUBMITTED, TickResult.Outcome.PENDING);
                client.rawRequest("evm_mine", List.of());
                again = submitter.tick();
            }
            assertThat(again.outcome()).isEqualTo(TickResult.Outcome.CONFIRMING);
            assertThat(fixture.vault().lastBatchId()).isEqualTo(1);
            client.rawRequest("evm_mine", List.of());
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMING);
            client.rawRequest("evm_mine", List.of());
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
        }
        assertThat(ledger.rows()).extracting(SettlementBatchRecord::batchId, SettlementBatchRecord::state)
                .containsExactly(tuple(1L, BatchState.CONFIRMED));
        assertThat(ledger.settledCalls()).containsExactly(1L);
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(1);
    }

    @Test
    void aStoredTransactionThatFailsWhenMinedIsRevertedAndItsMovementsSettleUnderTheSameId(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 50), fixture, 10, 10, SEED + 50), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);
        Signer admin = chain.account(LocalChain.ADMIN);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter first = submitter(client, fixture, store, ledger, 100, NOW, 4);
            store.crashAt(FaultingBatchStore.Point.AFTER_SUBMITTED);
            assertThatThrownBy(first::tick).isInstanceOf(FaultingBatchStore.Crash.class);
            PreparedTransaction stored = ledger.openBatches().getFirst().currentTransaction().orElseThrow();
            // signed while the vault accepted the batch; by the time it is sent, the vault is paused
            fixture.vault().pause(admin);

            BatchSubmitter restarted = submitter(client, fixture, ledger, ledger, 100, NOW, 4);
            assertThat(restarted.tick()).isEqualTo(new TickResult(TickResult.Outcome.REVERTED, 1, 10, 0));
            assertThat(client.receipt(stored.txHash())).hasValueSatisfying(
                    mined -> assertThat(mined.status()).isEqualTo(MinedReceipt.Status.FAILED));
            assertThat(ledger.backlog().count()).as("released").isEqualTo(10);

            fixture.vault().unpause(admin);
            assertThat(tickUntilIdle(restarted)).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(tuple(TickResult.Outcome.CONFIRMED, 1L),
                            tuple(TickResult.Outcome.IDLE, 0L));
        }
        assertThat(ledger.rows()).extracting(SettlementBatchRecord::batchId, SettlementBatchRecord::state).containsExactly(
                tuple(1L, BatchState.REVERTED),
                tuple(1L, BatchState.CONFIRMED));
        assertThat(ledger.rows().getFirst().failure()).hasValueSatisfying(failure -> assertThat(failure)
                .contains("VaultPaused", "no movement overdraws"));
        assertThat(ledger.quarantined()).isEmpty();
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(1);
    }

    @Test
    void aStoredTransactionWhoseNonceWasUsedByAnotherIsSignedAgainAndSettlesOnce(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 60), fixture, 10, 10, SEED + 60), OVERDUE);
        FaultingBatchStore store = new FaultingBatchStore(ledger);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter first = submitter(client, fixture, store, ledger, 100, NOW, 4);
            store.crashAt(FaultingBatchStore.Point.AFTER_SUBMITTED);
            assertThatThrownBy(first::tick).isInstanceOf(FaultingBatchStore.Crash.class);
            PreparedTransaction stored = ledger.openBatches().getFirst().currentTransaction().orElseThrow();
            // another transaction of the operator key takes the stored transaction's nonce
            fixture.token().approve(client.signer(DevAccounts.account(OPERATOR)), fixture.vault().address(), Amount.of(1));
            assertThat(client.pendingNonce(stored.from())).isEqualTo(stored.nonce() + 1);

            BatchSubmitter restarted = submitter(client, fixture, ledger, ledger, 100, NOW, 4);
            assertThat(tickUntilIdle(restarted)).extracting(TickResult::outcome, TickResult::batchId)
                    .containsExactly(tuple(TickResult.Outcome.CONFIRMED, 1L),
                            tuple(TickResult.Outcome.IDLE, 0L));
            assertThat(client.receipt(stored.txHash())).as("the first signature can never be mined").isEmpty();
        }
        assertThat(ledger.rows()).singleElement().satisfies(row -> {
            assertThat(row.state()).isEqualTo(BatchState.CONFIRMED);
            assertThat(row.transactions()).hasSize(2);
            assertThat(row.transactions().get(1).nonce()).isEqualTo(row.transactions().get(0).nonce() + 1);
            assertThat(row.confirmation()).map(MinedReceipt::txHash).contains(row.transactions().get(1).txHash());
        });
        assertThat(assertSettledExactlyOnce(fixture, ledger)).hasSize(1);
    }

    @Test
    void whileTheVaultIsPausedTheBatchWaitsBuiltAndSettlesOnceAfterTheUnpause(LocalChain chain) {
        Fixture fixture = fixture(chain, true);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 50), fixture, 12, 10, SEED + 50), OVERDUE);
        Signer admin = chain.account(LocalChain.ADMIN);
        fixture.vault().pause(admin);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            BatchSubmitter submitter = submitter(client, fixture, ledger, ledger, 100, NOW, 2);
            for (int i = 0; i < 3; i++) {
                assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.VAULT_PAUSED);
            }
            assertThat(ledger.rows()).as("one batch, never refused while paused").singleElement()
                    .extracting(SettlementBatchRecord::state).isEqualTo(BatchState.BUILT);
            assertThat(ledger.quarantined()).isEmpty();

            fixture.vault().unpause(admin);
            assertThat(submitter.tick().outcome()).isEqualTo(TickResult.Outcome.CONFIRMED);
        }
        assertThat(ledger.rows()).singleElement().extracting(SettlementBatchRecord::state)
                .isEqualTo(BatchState.CONFIRMED);
        assertSettledExactlyOnce(fixture, ledger);
    }

    @Test
    void aSubmitterWithoutTheLockDoesNothing(LocalChain chain) {
        Fixture fixture = fixture(chain, false);
        InMemorySettlementLedger ledger = new InMemorySettlementLedger();
        ledger.commitAll(workload(new Random(SEED + 40), fixture, 5, 0, SEED + 40), OVERDUE);

        try (ChainClient client = operatorClient(chain.rpcUrl())) {
            SettlementChain settlementChain = new SettlementChain(client,
                    new SettlementVaultGateway(client, fixture.vault().address()),
                    client.signer(DevAccounts.account(OPERATOR)), new ResilientRpc("no-lock", retries(1)));
            BatchSubmitter follower = new BatchSubmitter(settlementChain, ledger, ledger, new TestLock(false),
                    new BatchTrigger(1, MAX_DELAY, Clock.fixed(NOW, ZoneOffset.UTC)), BatchPlanner.withDefaults());

            assertThat(follower.tick()).isEqualTo(new TickResult(TickResult.Outcome.NOT_LEADER, 0, 0, 0));
        }
        assertThat(ledger.rows()).isEmpty();
        assertThat(ledger.backlog().count()).isEqualTo(5);
        assertThat(fixture.vault().lastBatchId()).isZero();
    }
}
