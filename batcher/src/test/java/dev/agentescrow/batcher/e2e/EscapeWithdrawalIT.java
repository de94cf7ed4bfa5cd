package dev.agentescrow.batcher.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.batcher.indexer.IndexerSettings;
import dev.agentescrow.batcher.indexer.VaultIndexer;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.indexer.db.PostgresCheckpointStore;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.reconcile.Mismatch;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.LedgerTables;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Escape withdrawals reach the ledger: once the hatch is open an account takes its settled balance
 * out on chain, and the indexer debits it in the ledger exactly once. An escape larger than what
 * the ledger holds for the account (it spent off-chain what no batch had settled yet) is refused
 * as a whole, writes nothing, and is reported by the reconciler.
 */
@ExtendWith({LocalChainExtension.class, EmbeddedPostgresExtension.class})
class EscapeWithdrawalIT {
    private static final int ALICE = 15;
    private static final int BOB = 16;
    private static final Amount DEPOSIT = Amount.of(1_000);

    @Test
    void anEscapeIsDebitedOnceAndAnUncoveredOneIsRefusedAndReported(LocalChain chain, TestDatabases databases)
            throws SQLException {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer alice = chain.account(ALICE);
        Signer bob = chain.account(BOB);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Escape USD", "XUSD", 6);
        Address usd = token.address();
        long startBlock = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                chain.account(LocalChain.OPERATOR).address(), Duration.ofDays(1));
        vault.listToken(admin, usd, TokenLimits.UNLIMITED);
        DataSource dataSource = databases.create();
        PostgresCheckpointStore checkpoints = new PostgresCheckpointStore(dataSource, Clock.systemUTC());

        try (Ledger ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))),
                Clock.systemUTC())) {
            ledger.registerToken(new Token(usd, "XUSD", 6), "escape-it", "escape test token");
            VaultIndexer indexer = new VaultIndexer(chain.client(), vault,
                    new ResilientRpc("indexer", RpcResilienceConfig.defaults()), checkpoints,
                    new LedgerVaultEventSink(ledger), new IndexerSettings(0, startBlock, 1_000));
            for (Signer agent : List.of(alice, bob)) {
                token.mint(admin, agent.address(), DEPOSIT);
                vault.deposit(agent, usd, DEPOSIT);
            }
            assertThat(indexer.poll().credited()).isEqualTo(2);

            // Bob pays alice off-chain; no batch settles it before the hatch opens.
            assertThat(ledger.submit(TransferRequest.single(new TransferId(0xE5C, 1), AccountKey.user(bob.address(), usd),
                    AccountKey.user(alice.address(), usd), Amount.of(300)))).isEqualTo(TransferResult.OK);
            chain.increaseTime(Duration.ofDays(1).toSeconds() + 1);
            BigInteger aliceTokens = token.balanceOf(alice.address()).baseUnits();
            vault.escapeWithdraw(alice, usd);
            vault.escapeWithdraw(bob, usd);
            assertThat(token.balanceOf(alice.address()).baseUnits()).isEqualTo(aliceTokens.add(DEPOSIT.baseUnits()));

            VaultIndexer.PollResult escapes = indexer.poll();
            assertThat(escapes.debited()).as("alice's escape is covered by her ledger balance").isEqualTo(1);
            assertThat(escapes.rejected()).as("bob holds 700 off-chain but took 1,000 out").isEqualTo(1);
            assertThat(LedgerTables.userBalances(dataSource, usd))
                    .containsEntry(alice.address(), BigInteger.valueOf(300))
                    .containsEntry(bob.address(), BigInteger.valueOf(700));

            // A replay books nothing twice and still refuses bob's.
            checkpoints.save(VaultIndexer.STREAM, new IndexerCheckpoint(startBlock - 1,
                    chain.client().blockHash(startBlock - 1)));
            VaultIndexer.PollResult replay = indexer.poll();
            assertThat(replay.alreadyBooked()).isEqualTo(3);
            assertThat(replay.rejected()).isEqualTo(1);
            assertThat(replay.credited() + replay.debited()).isZero();
            assertThat(LedgerTables.userBalances(dataSource, usd))
                    .containsEntry(alice.address(), BigInteger.valueOf(300))
                    .containsEntry(bob.address(), BigInteger.valueOf(700));

            ReconciliationReport report = new Reconciler(chain.client(), vault,
                    new ResilientRpc("reconciler", RpcResilienceConfig.defaults()),
                    new LedgerExpectedBalances(dataSource), startBlock, Clock.systemUTC(), new SimpleMeterRegistry())
                    .reconcile(List.of(usd));
            assertThat(report.mismatches()).as("only bob's unbooked escape").containsExactly(
                    new Mismatch.Account(usd, bob.address(), BigInteger.ZERO, DEPOSIT.baseUnits()));
        }
    }
}
