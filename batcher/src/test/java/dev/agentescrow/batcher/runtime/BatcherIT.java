package dev.agentescrow.batcher.runtime;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.settlement.BatchGas;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled {@link Batcher} on its schedule, against a Hardhat node and its own embedded
 * PostgreSQL: nothing here calls a component step by hand. Deposits on chain reach the ledger
 * through the scheduled indexer; transfers and a withdrawal settle in scheduled batches; a hold
 * expires on the schedule; the scheduled reconciler finds the books clean. Then the batcher
 * stops and starts again on the same data folder, and settles more, every batch id exactly once;
 * with settlement paused ({@link Batcher#pauseSettlement}) the scheduled step settles nothing until
 * it is resumed.
 */
@ExtendWith(LocalChainExtension.class)
class BatcherIT {
    private static final int OPERATOR = 19;
    /** Fee collector and escrow holder: they never deposit, the submitter registers them when needed. */
    private static final int FEE_COLLECTOR = 13;
    private static final int ESCROW_HOLDER = 14;
    private static final int FIRST_AGENT = 3;
    private static final int AGENTS = 5;
    /** An agent that only earns: it never deposits, so the vault learns of it at its first batch. */
    private static final int EARNER = 8;
    private static final Amount DEPOSIT = Amount.of(1_000_000);
    private static final Amount WITHDRAWAL = Amount.of(50_000);
    private static final BatcherConfig.Schedule FAST = new BatcherConfig.Schedule(Duration.ofMillis(50),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));

    private long nextId = 1;

    /** An on-demand reconciliation that ran: one asked while a batch is in flight is skipped (F6). */
    private static ReconciliationReport reconciled(Batcher batcher) {
        java.util.concurrent.atomic.AtomicReference<ReconciliationReport> report =
                new java.util.concurrent.atomic.AtomicReference<>();
        awaitUntil("an on-demand reconciliation with no batch in flight", () -> {
            report.set(batcher.reconcile());
            return !report.get().isSkipped();
        });
        return report.get();
    }

    @Test
    void depositsTransfersHoldsAndWithdrawalsSettleOnTheScheduleAndAcrossARestart(LocalChain chain,
                                                                                  @TempDir Path dataDir) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer operator = chain.account(OPERATOR);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Scheduled USD", "SUSD", 6);
        Address usd = token.address();
        long deploymentBlock = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                operator.address(), Duration.ofDays(7));
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        SettlementAddresses system = new SettlementAddresses(chain.account(FEE_COLLECTOR).address(),
                chain.account(ESCROW_HOLDER).address());
        BatcherConfig config = BatcherConfig.defaults(DatabaseConfig.embedded(dataDir.resolve("pg")),
                        ChainSettings.local(chain.rpcUrl()), vault.address(), deploymentBlock, system)
                .withConfirmations(0).withTrigger(5, Duration.ofSeconds(1))
                .withBatchLimits(5, BatchGas.DEFAULT_MAX_GAS_PER_BATCH).withSchedule(FAST);

        List<Address> agents = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) {
            agents.add(chain.account(FIRST_AGENT + i).address());
        }
        Map<Address, BigInteger> model = new HashMap<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // Minted and deposited at once: the deposit leaves the agent's token balance where it was.
        BigInteger withdrawerBefore = token.balanceOf(agents.getFirst()).baseUnits();
        Address earner = chain.account(EARNER).address();
        BigInteger earnerBefore = token.balanceOf(earner).baseUnits();
        TransferId firstTransfer;

        try (Batcher batcher = Batcher.start(config, DevAccounts.account(OPERATOR), Clock.systemUTC(), registry)) {
            Ledger ledger = batcher.ledger();
            assertThat(batcher.batchConfirmationDepth()).isEqualTo(config.batchConfirmationDepth()).isEqualTo(1);
            ledger.registerToken(new Token(usd, "SUSD", 6), "batcher-it", "scheduled settlement test token");

            // Deposits on chain; the scheduled indexer credits them.
            for (int i = 0; i < AGENTS; i++) {
                deposit(chain, token, vault, chain.account(FIRST_AGENT + i), DEPOSIT, model);
            }
            awaitUntil("every deposit is credited", () -> agents.stream()
                    .allMatch(agent -> balance(ledger, agent, usd).equals(DEPOSIT.baseUnits())));

            // Off-chain business: transfers in a ring, a withdrawal, a hold that nobody posts.
            firstTransfer = transfer(ledger, usd, agents, 0, model);
            for (int round = 1; round < 12; round++) {
                transfer(ledger, usd, agents, round, model);
            }
            commit(ledger, TransferRequest.single(id(), AccountKey.user(agents.getFirst(), usd),
                    AccountKey.payouts(usd), WITHDRAWAL));
            commit(ledger, TransferRequest.single(id(), AccountKey.user(agents.get(2), usd), AccountKey.fees(usd),
                    Amount.of(1_500)));
            model.merge(agents.get(2), BigInteger.valueOf(-1_500), BigInteger::add);
            model.put(system.feeCollector(), BigInteger.valueOf(1_500));
            for (int payer = 0; payer < 2; payer++) {
                commit(ledger, TransferRequest.single(id(), AccountKey.user(agents.get(payer), usd),
                        AccountKey.user(earner, usd), Amount.of(40_000)));
                model.merge(agents.get(payer), BigInteger.valueOf(-40_000), BigInteger::add);
            }
            commit(ledger, TransferRequest.single(id(), AccountKey.user(earner, usd), AccountKey.payouts(usd),
                    Amount.of(25_000)));
            model.put(earner, BigInteger.valueOf(80_000 - 25_000));
            model.merge(agents.getFirst(), WITHDRAWAL.baseUnits().negate(), BigInteger::add);
            BigInteger heldFrom = balance(ledger, agents.get(1), usd);
            commit(ledger, TransferRequest.hold(id(), AccountKey.user(agents.get(1), usd),
                    AccountKey.user(agents.get(2), usd), Amount.of(7_000), 1));
            assertThat(ledger.balance(AccountKey.user(agents.get(1), usd)).orElseThrow().available())
                    .isEqualTo(heldFrom.subtract(BigInteger.valueOf(7_000)));

            // Scheduled settlement and expiry.
            awaitUntil("the vault's settled balances equal the ledger's", () -> settledMatches(vault, usd, model));
            awaitUntil("the withdrawal is paid", () -> token.balanceOf(agents.getFirst()).baseUnits()
                    .equals(withdrawerBefore.add(WITHDRAWAL.baseUnits())));
            awaitUntil("the earner's withdrawal is paid", () -> token.balanceOf(earner).baseUnits()
                    .equals(earnerBefore.add(BigInteger.valueOf(25_000))));
            assertThat(vault.knowsAccount(earner)).isTrue();
            awaitUntil("the hold expires", () -> {
                AccountBalance held = ledger.balance(AccountKey.user(agents.get(1), usd)).orElseThrow();
                return held.debitsPending().signum() == 0 && held.available().equals(heldFrom);
            });
            assertThat(vault.lastBatchId()).isGreaterThanOrEqualTo(3);

            // The scheduled reconciler, and one on demand, find the books clean.
            Instant settledAt = Instant.now();
            awaitUntil("a scheduled reconciliation after the settlement", () -> batcher.lastReconciliation()
                    .filter(report -> report.at().isAfter(settledAt)).isPresent());
            assertThat(batcher.lastReconciliation().orElseThrow().mismatches()).isEmpty();
            ReconciliationReport onDemand = reconciled(batcher);
            assertThat(onDemand.clean()).isTrue();
            assertThat(onDemand.tokens()).singleElement()
                    .satisfies(report -> assertThat(report.accountsChecked()).isEqualTo(AGENTS + 2));

            // Every settled transfer has a proof that the vault verifies.
            InclusionProof proof = batcher.proof(firstTransfer).orElseThrow();
            TransferLeaf leaf = proof.leaf();
            assertThat(vault.verifyTransfer(proof.batchId(), proof.proof(), leaf.transferId().toBytes32(),
                    leaf.token(), leaf.from(), leaf.to(), leaf.amount())).isTrue();

            for (String step : List.of("index", "settle", "expire", "reconcile")) {
                assertThat(registry.counter("batcher.steps", "step", step, "result", "ok").count())
                        .as("ok runs of %s", step).isPositive();
            }
            assertThat(registry.get("settlement.batches").tag("state", "confirmed").counter().count())
                    .isGreaterThanOrEqualTo(3);
            assertThat(registry.get("settlement.accounts.registered").counter().count())
                    .as("the earner and the fee collector").isEqualTo(2);
        }

        // A restart on the same data folder: the ledger is where it was, and settling goes on.
        long batchesBefore = vault.lastBatchId();
        SimpleMeterRegistry restarted = new SimpleMeterRegistry();
        try (Batcher batcher = Batcher.start(config, DevAccounts.account(OPERATOR), Clock.systemUTC(), restarted)) {
            Ledger ledger = batcher.ledger();
            for (Address agent : agents) {
                assertThat(balance(ledger, agent, usd)).as("ledger balance of %s after the restart", agent)
                        .isEqualTo(model.get(agent));
            }
            // Paused, the scheduled settle step runs and settles nothing; resumed, it settles.
            batcher.pauseSettlement(true);
            assertThat(batcher.isSettlementPaused()).isTrue();
            for (int round = 12; round < 17; round++) {
                transfer(ledger, usd, agents, round, model);
            }
            double settleRuns = restarted.counter("batcher.steps", "step", "settle", "result", "ok").count();
            awaitUntil("three scheduled settle steps while paused", () -> restarted.counter("batcher.steps",
                    "step", "settle", "result", "ok").count() >= settleRuns + 3);
            assertThat(vault.lastBatchId()).as("no batch while settlement is paused").isEqualTo(batchesBefore);
            assertThat(settledMatches(vault, usd, model)).isFalse();
            batcher.pauseSettlement(false);
            awaitUntil("the transfers after the restart settle", () -> settledMatches(vault, usd, model)
                    && vault.lastBatchId() > batchesBefore);
            assertThat(reconciled(batcher).clean()).isTrue();
        }

        List<BatchSettled> events = vault.batchesSettledBetween(deploymentBlock, chain.client().blockNumber());
        assertThat(events.stream().collect(Collectors.groupingBy(BatchSettled::batchId, Collectors.counting())))
                .as("each batch id settled exactly once")
                .isEqualTo(LongStream.rangeClosed(1, vault.lastBatchId()).boxed()
                        .collect(Collectors.toMap(Function.identity(), batchId -> 1L)));
    }

    private static void deposit(LocalChain chain, Erc20Token token, SettlementVaultGateway vault, Signer account,
                                Amount amount, Map<Address, BigInteger> model) {
        token.mint(chain.account(LocalChain.ADMIN), account.address(), amount);
        new SettlementVaultGateway(chain.client(), vault.address()).deposit(account, token.address(), amount);
        model.merge(account.address(), amount.baseUnits(), BigInteger::add);
    }

    /** Agent {@code round % n} pays the next one {@code 1,000 * (round + 1)} base units. */
    private TransferId transfer(Ledger ledger, Address usd, List<Address> agents, int round,
                                Map<Address, BigInteger> model) {
        Address from = agents.get(round % agents.size());
        Address to = agents.get((round + 1) % agents.size());
        BigInteger amount = BigInteger.valueOf(1_000L * (round + 1));
        TransferId id = commit(ledger, TransferRequest.single(id(), AccountKey.user(from, usd),
                AccountKey.user(to, usd), Amount.of(amount)));
        model.merge(from, amount.negate(), BigInteger::add);
        model.merge(to, amount, BigInteger::add);
        return id;
    }

    private TransferId id() {
        return new TransferId(0xB47C, nextId++);
    }

    private static TransferId commit(Ledger ledger, TransferRequest request) {
        assertThat(ledger.submit(request)).as("transfer %s", request.id()).isEqualTo(TransferResult.OK);
        return request.id();
    }

    private static BigInteger balance(Ledger ledger, Address owner, Address token) {
        return ledger.balance(AccountKey.user(owner, token)).map(AccountBalance::balance).orElse(BigInteger.ZERO);
    }

    private static boolean settledMatches(SettlementVaultGateway vault, Address token, Map<Address, BigInteger> model) {
        return model.entrySet().stream()
                .allMatch(e -> vault.settledBalance(token, e.getKey()).baseUnits().equals(e.getValue()));
    }
}
