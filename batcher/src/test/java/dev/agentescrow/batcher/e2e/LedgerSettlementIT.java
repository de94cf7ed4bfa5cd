package dev.agentescrow.batcher.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.indexer.VaultIndexer;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.batcher.indexer.IndexerSettings;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.indexer.db.PostgresCheckpointStore;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.settlement.BatchPlanner;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.BatchSubmitter;
import dev.agentescrow.batcher.settlement.FaultingBatchStore;
import dev.agentescrow.batcher.settlement.BatchTrigger;
import dev.agentescrow.batcher.settlement.InclusionProof;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementChain;
import dev.agentescrow.batcher.settlement.TickResult;
import dev.agentescrow.batcher.settlement.db.PostgresAdvisoryLock;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.LedgerTables;
import dev.agentescrow.batcher.testing.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole money path on a real Hardhat node and a real PostgreSQL: agents deposit into this
 * test's own vault, the indexer credits the ledger exactly once, the agents pay each other, hold,
 * post and void, pay a fee, go through escrow and withdraw through the ledger API, and the
 * submitter settles everything on chain (crashing once after a batch is BUILT and finishing on a
 * new store and submitter). Then the chain and the ledger must agree to the unit.
 */
@ExtendWith({LocalChainExtension.class, EmbeddedPostgresExtension.class})
class LedgerSettlementIT {
    private static final long SEED = Long.getLong("e2e.seed", 20261122L);
    private static final int OPERATOR = 19;
    private static final int FIRST_AGENT = 3;
    private static final int AGENTS = 8;
    private static final Amount DEPOSIT = Amount.tokens(1_000, 6);
    private static final Amount WITHDRAWAL = Amount.tokens(50, 6);
    private static final int WITHDRAWING_AGENTS = 3;
    private static final int RANDOM_TRANSFERS = 40;
    private static final int MAX_TICKS = 60;
    private static final Instant NOW = Instant.parse("2026-11-22T12:00:00Z");
    /** Fee collector and escrow holder; they deposit once here (without it the submitter registers them). */
    private static final int FEE_COLLECTOR = 13;
    private static final int ESCROW_HOLDER = 14;
    private static final Amount SYSTEM_DEPOSIT = Amount.of(1);

    private final AtomicLong ids = new AtomicLong(1);

    @Test
    void depositsTransfersAndWithdrawalsSettleOnChainExactlyAsTheLedgerBooksThem(LocalChain chain,
                                                                                TestDatabases databases)
            throws SQLException {
        Signer admin = chain.account(LocalChain.ADMIN);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "E2E USD", "EUSD", 6);
        DataSource dataSource = databases.create();
        MutableClock ledgerClock = new MutableClock(NOW);
        try (ChainClient operatorClient = ChainClient.connect(ChainSettings.local(chain.rpcUrl()));
             Ledger ledger = Ledger.start(dataSource,
                     LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), ledgerClock)) {
            Signer operator = operatorClient.signer(DevAccounts.account(OPERATOR));
            SettlementVaultGateway vault = SettlementVaultGateway.deploy(operatorClient, operator, operator.address(),
                    operator.address(), Duration.ofDays(7));
            vault.listToken(operator, token.address(), TokenLimits.UNLIMITED);
            Address usd = token.address();
            ledger.registerToken(new Token(usd, "EUSD", 6), "e2e", "settlement test token");

            // 1. Deposits on chain, credited by the indexer exactly once.
            long startBlock = operatorClient.blockNumber() + 1;
            SettlementAddresses addresses = new SettlementAddresses(chain.account(FEE_COLLECTOR).address(),
                    chain.account(ESCROW_HOLDER).address());
            for (int system : List.of(FEE_COLLECTOR, ESCROW_HOLDER)) {
                Signer holder = chain.account(system);
                token.mint(admin, holder.address(), SYSTEM_DEPOSIT);
                new SettlementVaultGateway(chain.client(), vault.address()).deposit(holder, usd, SYSTEM_DEPOSIT);
            }
            List<Address> agents = new ArrayList<>();
            for (int i = 0; i < AGENTS; i++) {
                Signer agent = chain.account(FIRST_AGENT + i);
                agents.add(agent.address());
                token.mint(admin, agent.address(), DEPOSIT);
                new SettlementVaultGateway(chain.client(), vault.address()).deposit(agent, usd, DEPOSIT);
            }
            PostgresCheckpointStore checkpoints = new PostgresCheckpointStore(dataSource, ledgerClock);
            VaultIndexer indexer = new VaultIndexer(operatorClient, vault,
                    new ResilientRpc("indexer", RpcResilienceConfig.defaults()), checkpoints,
                    new LedgerVaultEventSink(ledger), new IndexerSettings(0, startBlock, 1_000));
            VaultIndexer.PollResult first = indexer.poll();
            assertThat(first.credited()).isEqualTo(AGENTS + 2);
            assertThat(indexer.poll().credited()).isZero();
            checkpoints.save(VaultIndexer.STREAM,
                    new IndexerCheckpoint(startBlock - 1, operatorClient.blockHash(startBlock - 1)));
            VaultIndexer.PollResult replay = indexer.poll();
            assertThat(replay.credited()).isZero();
            assertThat(replay.alreadyBooked()).isEqualTo(AGENTS + 2);
            for (Address agent : agents) {
                assertThat(LedgerTables.userBalances(dataSource, usd)).containsEntry(agent, DEPOSIT.baseUnits());
            }

            // 2. Off-chain business through the ledger API.
            TransferId firstTransfer = workload(ledger, usd, agents);
            Map<Address, BigInteger> tokenBefore = new HashMap<>();
            for (int i = 0; i < WITHDRAWING_AGENTS; i++) {
                Address agent = agents.get(i);
                tokenBefore.put(agent, token.balanceOf(agent).baseUnits());
                commit(ledger, TransferRequest.single(nextId(), AccountKey.user(agent, usd), AccountKey.payouts(usd),
                        WITHDRAWAL));
            }

            // 3. Settlement: another submitter holds the lock, then one crashes after BUILT, a new one finishes.
            PostgresAdvisoryLock rival = new PostgresAdvisoryLock(dataSource);
            PostgresSettlementStore crashedStore = new PostgresSettlementStore(dataSource, ledger, addresses,
                    ledgerClock);
            SettlementChain settlementChain = new SettlementChain(operatorClient, vault, operator,
                    new ResilientRpc("submitter", RpcResilienceConfig.defaults()));
            BatchTrigger trigger = new BatchTrigger(12, Duration.ofSeconds(60),
                    Clock.fixed(NOW.plus(Duration.ofHours(1)), ZoneOffset.UTC));
            FaultingBatchStore crashing = new FaultingBatchStore(crashedStore);
            crashing.crashAt(FaultingBatchStore.Point.BEFORE_SUBMITTED);
            BatchSubmitter doomed = new BatchSubmitter(settlementChain, crashing,
                    crashedStore, new PostgresAdvisoryLock(dataSource), trigger, new BatchPlanner(12));
            assertThat(rival.tryAcquire()).isTrue();
            assertThat(doomed.tick().outcome()).isEqualTo(TickResult.Outcome.NOT_LEADER);
            rival.release();
            assertThatThrownBy(doomed::tick).isInstanceOf(FaultingBatchStore.Crash.class);
            assertThat(crashedStore.openBatches()).singleElement()
                    .extracting(SettlementBatchRecord::state).isEqualTo(BatchState.BUILT);

            PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger, addresses, ledgerClock);
            BatchSubmitter submitter = new BatchSubmitter(settlementChain, store, store,
                    new PostgresAdvisoryLock(dataSource), trigger, new BatchPlanner(12));
            int ticks = 0;
            while (!(store.backlog().isEmpty() && store.openBatches().isEmpty())) {
                assertThat(ticks++).as("ticks until everything is settled").isLessThan(MAX_TICKS);
                submitter.tick();
            }

            // 4. Exactly once on chain.
            long lastBatchId = vault.lastBatchId();
            assertThat(lastBatchId).isGreaterThanOrEqualTo(3).isEqualTo(store.lastBatchId());
            List<BatchSettled> settledEvents = vault.batchesSettledBetween(startBlock, operatorClient.blockNumber());
            assertThat(settledEvents.stream().collect(Collectors.groupingBy(BatchSettled::batchId,
                    Collectors.counting())))
                    .isEqualTo(LongStream.rangeClosed(1, lastBatchId).boxed()
                            .collect(Collectors.toMap(Function.identity(), id -> 1L)));
            assertThat(store.batches()).allSatisfy(row -> assertThat(row.state()).isEqualTo(BatchState.CONFIRMED));
            assertThat(store.quarantined()).isEmpty();

            // 5. Chain and ledger agree.
            Map<Address, BigInteger> ledgerUsers = LedgerTables.userBalances(dataSource, usd);
            assertThat(ledgerUsers).hasSize(AGENTS + 2);
            BigInteger settledTotal = BigInteger.ZERO;
            Map<String, BigInteger> system = systemBalances(dataSource, usd);
            Map<Address, BigInteger> expected = new HashMap<>(ledgerUsers);
            expected.merge(addresses.feeCollector(), system.get("FEES"), BigInteger::add);
            expected.merge(addresses.escrowHolder(), system.get("ESCROW"), BigInteger::add);
            assertThat(ledgerUsers.get(addresses.feeCollector())).isEqualTo(SYSTEM_DEPOSIT.baseUnits());
            for (Map.Entry<Address, BigInteger> user : expected.entrySet()) {
                BigInteger onChain = vault.settledBalance(usd, user.getKey()).baseUnits();
                assertThat(onChain).as("settled balance of %s", user.getKey()).isEqualTo(user.getValue());
                settledTotal = settledTotal.add(onChain);
            }
            assertThat(system.get("FEES")).isEqualTo(BigInteger.valueOf(1_234));
            assertThat(system.get("ESCROW")).isEqualTo(BigInteger.valueOf(1_000));
            assertThat(system.get("PAYOUTS")).isZero();
            assertThat(ledgerSum(dataSource, usd)).isZero();
            assertThat(system.get("CUSTODY").negate()).isEqualTo(settledTotal);

            BigInteger pendingPayouts = BigInteger.ZERO;
            for (int i = 0; i < WITHDRAWING_AGENTS; i++) {
                Address agent = agents.get(i);
                BigInteger pending = vault.pendingPayout(usd, agent).baseUnits();
                pendingPayouts = pendingPayouts.add(pending);
                assertThat(token.balanceOf(agent).baseUnits().add(pending))
                        .isEqualTo(tokenBefore.get(agent).add(WITHDRAWAL.baseUnits()));
            }
            assertThat(token.balanceOf(vault.address()).baseUnits()).isEqualTo(settledTotal.add(pendingPayouts));
            assertThat(payoutTransfers(dataSource)).isEqualTo(WITHDRAWING_AGENTS);

            // 6. The proof of a settled transfer verifies on chain, under the root the vault emitted.
            InclusionProof proof = store.proof(firstTransfer).orElseThrow();
            assertThat(settledEvents).filteredOn(event -> event.batchId() == proof.batchId())
                    .singleElement().extracting(BatchSettled::merkleRoot).isEqualTo(proof.merkleRoot());
            TransferLeaf leaf = proof.leaf();
            assertThat(vault.verifyTransfer(proof.batchId(), proof.proof(), leaf.transferId().toBytes32(),
                    leaf.token(), leaf.from(), leaf.to(), leaf.amount())).isTrue();

            // 7. The reconciler, reading the ledger's tables, finds the books clean.
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            ReconciliationReport report = new Reconciler(operatorClient, vault,
                    new ResilientRpc("reconciler", RpcResilienceConfig.defaults()),
                    new LedgerExpectedBalances(dataSource), startBlock, ledgerClock, registry).reconcile(List.of(usd));
            assertThat(report.mismatches()).isEmpty();
            assertThat(report.tokens()).hasSize(1);
            assertThat(report.tokens().getFirst().accountsChecked()).isEqualTo(AGENTS + 2);
            assertThat(report.tokens().getFirst().settledSum()).isEqualTo(settledTotal);
            assertThat(registry.get("reconciliation.mismatches").gauge().value()).isZero();
        }
    }

    /** Seeded transfers among the agents plus a partly posted hold, a voided hold, a fee and an escrow round trip. */
    private TransferId workload(Ledger ledger, Address usd, List<Address> agents) {
        Random random = new Random(SEED);
        Map<Address, BigInteger> available = new LinkedHashMap<>();
        agents.forEach(agent -> available.put(agent, DEPOSIT.baseUnits().subtract(WITHDRAWAL.baseUnits())));
        TransferId first = null;
        for (int i = 0; i < RANDOM_TRANSFERS; i++) {
            Address from = agents.get(random.nextInt(AGENTS));
            Address to = agents.get(random.nextInt(AGENTS));
            if (from.equals(to)) {
                continue;
            }
            BigInteger amount = BigInteger.valueOf(1 + random.nextInt(1_000_000))
                    .min(available.get(from).divide(BigInteger.TWO));
            if (amount.signum() == 0) {
                continue;
            }
            TransferId id = commit(ledger, TransferRequest.single(nextId(), AccountKey.user(from, usd),
                    AccountKey.user(to, usd), Amount.of(amount)));
            first = first == null ? id : first;
            available.merge(from, amount.negate(), BigInteger::add);
            available.merge(to, amount, BigInteger::add);
        }
        TransferId hold = commit(ledger, TransferRequest.hold(nextId(), AccountKey.user(agents.get(0), usd),
                AccountKey.user(agents.get(1), usd), Amount.of(5_000), 3_600));
        commit(ledger, TransferRequest.post(nextId(), hold, Amount.of(3_000)));
        TransferId voided = commit(ledger, TransferRequest.hold(nextId(), AccountKey.user(agents.get(2), usd),
                AccountKey.user(agents.get(3), usd), Amount.of(7_000), 3_600));
        commit(ledger, TransferRequest.voidPending(nextId(), voided));
        commit(ledger, TransferRequest.single(nextId(), AccountKey.user(agents.get(4), usd), AccountKey.fees(usd),
                Amount.of(1_234)));
        commit(ledger, TransferRequest.single(nextId(), AccountKey.user(agents.get(5), usd), AccountKey.escrow(usd),
                Amount.of(10_000)));
        commit(ledger, TransferRequest.single(nextId(), AccountKey.escrow(usd), AccountKey.user(agents.get(6), usd),
                Amount.of(9_000)));
        return first;
    }

    private TransferId nextId() {
        return new TransferId(0xE2E, ids.getAndIncrement());
    }

    private static TransferId commit(Ledger ledger, TransferRequest request) {
        assertThat(ledger.submit(request)).as("transfer %s", request.id()).isEqualTo(TransferResult.OK);
        return request.id();
    }


    private static Map<String, BigInteger> systemBalances(DataSource dataSource, Address token) throws SQLException {
        Map<String, BigInteger> out = new HashMap<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     SELECT kind, credits_posted - debits_posted FROM account_balances
                     WHERE kind <> 'USER' AND token = ?""")) {
            s.setString(1, token.hex());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getBigDecimal(2).toBigIntegerExact());
                }
            }
        }
        return out;
    }

    private static BigInteger ledgerSum(DataSource dataSource, Address token) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     SELECT coalesce(sum(credits_posted - debits_posted), 0), coalesce(sum(debits_pending), 0)
                     FROM account_balances WHERE token = ?""")) {
            s.setString(1, token.hex());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                assertThat(rs.getBigDecimal(2).signum()).as("no hold left open").isZero();
                return rs.getBigDecimal(1).toBigIntegerExact();
            }
        }
    }

    private static long payoutTransfers(DataSource dataSource) throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM transfers WHERE reference LIKE 'payout:%'");
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
