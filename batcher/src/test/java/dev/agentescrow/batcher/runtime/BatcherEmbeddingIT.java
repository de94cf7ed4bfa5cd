package dev.agentescrow.batcher.runtime;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.command.ServiceCommands;
import dev.agentescrow.batcher.command.ServiceRule;
import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.ServiceTotals;
import dev.agentescrow.batcher.read.SettlementState;
import dev.agentescrow.batcher.read.TransferView;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
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
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batcher as a service embeds it (issue 11): on the service's own pool, ledger settings and key;
 * the agent and service command layers and the read API, through to settlement on chain; the pool
 * outlives the batcher.
 */
@ExtendWith(LocalChainExtension.class)
class BatcherEmbeddingIT {
    private static final int OPERATOR = 18;
    private static final int FEE_COLLECTOR = 11;
    private static final int ESCROW_HOLDER = 12;
    private static final int ALICE = 15;
    private static final int BOB = 16;
    private static final BatcherConfig.Schedule FAST = new BatcherConfig.Schedule(Duration.ofMillis(50),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));
    private final AtomicLong ids = new AtomicLong(1);

    private TransferId id() {
        return new TransferId(0xE3BED, ids.getAndIncrement());
    }

    @Test
    void startsOnTheServicesPool_commandsAndReadsSettleOnChain_andThePoolOutlivesTheBatcher(LocalChain chain,
                                                                                            @TempDir Path dataDir)
            throws Exception {
        Signer admin = chain.account(LocalChain.ADMIN);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Embedded USD", "EUSD", 6);
        Address usd = token.address();
        long deploymentBlock = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                chain.account(OPERATOR).address(), Duration.ofDays(7));
        vault.listToken(admin, usd, TokenLimits.UNLIMITED);
        SettlementAddresses system = new SettlementAddresses(chain.account(FEE_COLLECTOR).address(),
                chain.account(ESCROW_HOLDER).address());
        Address alice = chain.account(ALICE).address();
        Address bob = chain.account(BOB).address();
        BigInteger bobBefore = token.balanceOf(bob).baseUnits();

        DatabaseConfig databaseConfig = DatabaseConfig.embedded(dataDir.resolve("service-pg"));
        try (Database service = Database.start(databaseConfig)) {
            BatcherConfig config = BatcherConfig.defaults(databaseConfig, ChainSettings.local(chain.rpcUrl()),
                            vault.address(), deploymentBlock, system)
                    .withConfirmations(0).withTrigger(3, Duration.ofSeconds(1)).withSchedule(FAST);
            LedgerConfig ledgerConfig = LedgerConfig.defaults(databaseConfig).withRequestTimeout(Duration.ofSeconds(20));
            TransferId pay = id();
            try (Batcher batcher = Batcher.start(service.dataSource(), config, ledgerConfig,
                    DevAccounts.account(OPERATOR), Clock.systemUTC(), new SimpleMeterRegistry())) {
                batcher.ledger().registerToken(new Token(usd, "EUSD", 6), "embedding-it", "test token");
                LedgerReads reads = batcher.reads();
                token.mint(admin, alice, Amount.of(1_000_000));
                new SettlementVaultGateway(chain.client(), vault.address()).deposit(chain.account(ALICE), usd,
                        Amount.of(1_000_000));
                awaitUntil("the deposit is credited", () -> reads.account(AccountKey.user(alice, usd)).get()
                        .map(AccountView::posted).filter(BigInteger.valueOf(1_000_000)::equals).isPresent());

                var agents = batcher.agentCommands();
                var rules = batcher.serviceCommands();
                assertThat(agents.fundEscrow(alice, id(), "job-1", usd, Amount.of(300_000)).result())
                        .isEqualTo(TransferResult.OK);
                assertThat(rules.payOutOfEscrow(ServiceRule.EVALUATOR_RELEASE, "evaluator", "job-1", usd,
                        List.of(new ServiceCommands.Share(id(), AccountKey.user(bob, usd), Amount.of(100_000))),
                        "accepted")).extracting(TransferReceipt::result).containsExactly(TransferResult.OK);
                assertThat(rules.refundRest(ServiceRule.DEADLINE_REFUND, "scheduler", "job-1", usd, alice, id(),
                        "deadline").orElseThrow().result()).isEqualTo(TransferResult.OK);
                TransferReceipt paid = agents.pay(alice, pay, bob, usd, Amount.of(1_000), "invoice 7");
                assertThat(paid.result()).isEqualTo(TransferResult.OK);
                TransferReceipt withdrawal = agents.withdraw(bob, id(), usd, Amount.of(50_000));
                assertThat(withdrawal.result()).isEqualTo(TransferResult.OK);
                assertThat(reads.account(AccountKey.user(bob, usd), withdrawal.seq(), Duration.ofSeconds(10)).get()
                        .orElseThrow()
                        .pendingWithdrawal()).isEqualTo(BigInteger.valueOf(50_000));

                awaitUntil("the settled balances on chain equal the ledger's", () ->
                        vault.settledBalance(usd, alice).baseUnits().equals(BigInteger.valueOf(899_000))
                                && vault.settledBalance(usd, bob).baseUnits().equals(BigInteger.valueOf(51_000))
                                && vault.settledBalance(usd, system.escrowHolder()).baseUnits().signum() == 0);
                awaitUntil("the withdrawal is paid and booked", () -> token.balanceOf(bob).baseUnits()
                        .equals(bobBefore.add(BigInteger.valueOf(50_000)))
                        && reads.account(AccountKey.user(bob, usd)).get().orElseThrow().pendingWithdrawal().signum() == 0);
                awaitUntil("the payment shows as settled", () -> reads.transfer(pay).get()
                        .map(TransferView::state).filter(SettlementState.SETTLED::equals).isPresent());
                InclusionProof proof = reads.transfer(pay).get().orElseThrow().proof().orElseThrow();
                TransferLeaf leaf = proof.leaf();
                assertThat(vault.verifyTransfer(proof.batchId(), proof.proof(), leaf.transferId().toBytes32(),
                        leaf.token(), leaf.from(), leaf.to(), leaf.amount())).isTrue();
                assertThat(reads.account(AccountKey.escrowFunds("job-1", usd)).get().orElseThrow().posted()).isZero();
                ServiceTotals.TokenTotals totals = reads.totals().tokens().get(usd);
                assertThat(totals.deposits()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(1_000_000)));
                assertThat(totals.withdrawals()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(50_000)));
                assertThat(totals.payouts()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(50_000)));
                AtomicReference<ReconciliationReport> report = new AtomicReference<>();
                awaitUntil("an on-demand reconciliation with no batch in flight", () -> {
                    report.set(batcher.reconcile());
                    return !report.get().isSkipped();
                });
                assertThat(report.get().clean()).isTrue();
            }
            // The service's pool is still open, and any instance reads the same books without a writer.
            try (Connection c = service.dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
            LedgerReads after = new LedgerReads(service.dataSource());
            assertThat(after.account(AccountKey.user(bob, usd)).get().orElseThrow().posted())
                    .isEqualTo(BigInteger.valueOf(51_000));
            assertThat(after.history(bob, Optional.of(usd), Long.MAX_VALUE, 10, 0, Duration.ZERO).get().orElseThrow()
                    .entries()).hasSize(3);
        }
    }
}
