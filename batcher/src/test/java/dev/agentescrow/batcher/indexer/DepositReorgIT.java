package dev.agentescrow.batcher.indexer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.indexer.db.PostgresCheckpointStore;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.reconcile.Reconciler;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.utils.Numeric;

/**
 * Deposits and escapes under reorganisations (issue 10, F8), with the real ledger, the PostgreSQL
 * indexer store and a Hardhat node: a custody event is held at {@value #HOLD} confirmation (the
 * user's incoming, not spendable), posted at depth {@value #DEPTH}, and voided when the chain drops
 * its block ({@code evm_snapshot}/{@code evm_revert}); a deposit mined again in another block is
 * credited once. Every send goes through a client of the test's own (signers cache nonces, which a
 * revert invalidates), and each test reverts the shared node to its own first snapshot at the end.
 */
@ExtendWith({LocalChainExtension.class, EmbeddedPostgresExtension.class})
class DepositReorgIT {
    private static final int HOLD = 1;
    private static final int DEPTH = 3;
    private static final int ALICE = 11;
    private static final Amount DEPOSIT = Amount.of(500);

    private LocalChain chain;
    private String initialSnapshot;
    private ChainClient setupClient;
    private Ledger ledger;
    private DataSource dataSource;
    private SettlementVaultGateway vault;
    private Address token;
    private Address alice;
    private long startBlock;
    private VaultIndexer indexer;
    private Reconciler reconciler;

    @BeforeEach
    void start(LocalChain localChain, TestDatabases databases) {
        chain = localChain;
        initialSnapshot = snapshot();
        setupClient = ChainClient.connect(ChainSettings.local(chain.rpcUrl()));
        Signer admin = setupClient.signer(DevAccounts.account(LocalChain.ADMIN));
        Signer depositor = setupClient.signer(DevAccounts.account(ALICE));
        alice = depositor.address();
        Erc20Token erc20 = Erc20Token.deployTestToken(setupClient, admin, "Reorg USD", "RUSD", 6);
        token = erc20.address();
        startBlock = setupClient.blockNumber() + 1;
        vault = SettlementVaultGateway.deploy(setupClient, admin, admin.address(),
                Address.of(DevAccounts.account(LocalChain.OPERATOR).getAddress()), Duration.ofDays(1));
        vault.listToken(admin, token, TokenLimits.UNLIMITED);
        erc20.mint(admin, alice, Amount.of(1_000_000));
        erc20.approve(depositor, vault.address(), Amount.of(1_000_000));

        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))),
                Clock.systemUTC());
        ledger.registerToken(new Token(token, "RUSD", 6), "reorg-it", "test token");
        indexer = new VaultIndexer(chain.client(), new SettlementVaultGateway(chain.client(), vault.address()),
                new ResilientRpc("indexer", RpcResilienceConfig.defaults()),
                new PostgresCheckpointStore(dataSource, Clock.systemUTC()), new LedgerVaultEventSink(ledger),
                new IndexerSettings(HOLD, DEPTH, startBlock, 1_000));
        reconciler = new Reconciler(chain.client(), new SettlementVaultGateway(chain.client(), vault.address()),
                new ResilientRpc("reconciler", RpcResilienceConfig.defaults()),
                new LedgerExpectedBalances(dataSource).plus(indexer::unbookedCustody), startBlock, Clock.systemUTC(),
                new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() {
        if (ledger != null) {
            ledger.close();
        }
        if (setupClient != null) {
            setupClient.close();
        }
        chain.client().rawRequest("evm_revert", List.of(initialSnapshot));
    }

    @Test
    void F8_aDepositHeldAtItsConfirmationsIsVoidedWhenTheChainDropsItsBlock() {
        String beforeDeposit = snapshot();
        deposit(DEPOSIT);
        mine(HOLD);
        VaultIndexer.PollResult held = indexer.poll();
        assertThat(held.held()).isEqualTo(1);
        assertThat(held.credited()).isZero();
        assertThat(balance()).satisfies(b -> {
            assertThat(b.incoming()).isEqualTo(DEPOSIT.baseUnits());
            assertThat(b.available()).as("not spendable before the depth").isZero();
        });
        assertThat(reconciler.reconcile(List.of(token)).clean()).as("a held deposit is expected").isTrue();

        chain.client().rawRequest("evm_revert", List.of(beforeDeposit));
        chain.increaseTime(60);
        mine(DEPTH);
        VaultIndexer.PollResult voided = indexer.poll();
        assertThat(voided.voided()).isEqualTo(1);
        assertThat(voided.credited()).isZero();
        assertThat(balance()).satisfies(b -> {
            assertThat(b.incoming()).isZero();
            assertThat(b.balance()).isZero();
        });
        assertThat(ledger.balance(AccountKey.custody(token)).map(AccountBalance::balance)).contains(BigInteger.ZERO);
        assertThat(vault.settledBalance(token, alice)).isEqualTo(Amount.ZERO);
        assertThat(reconciler.reconcile(List.of(token)).clean()).isTrue();
        assertThat(indexer.poll().voided()).as("voided once").isZero();
    }

    @Test
    void F8_aDepositIsPostedOnlyAtTheConfiguredDepth() {
        deposit(DEPOSIT);
        mine(HOLD);
        assertThat(indexer.poll().held()).isEqualTo(1);
        for (int block = HOLD + 1; block < DEPTH; block++) {
            mine(1);
            VaultIndexer.PollResult waiting = indexer.poll();
            assertThat(waiting.credited()).isZero();
            assertThat(balance().available()).isZero();
            assertThat(reconciler.reconcile(List.of(token)).clean()).isTrue();
        }
        mine(1);
        assertThat(indexer.poll().credited()).isEqualTo(1);
        assertThat(balance()).satisfies(b -> {
            assertThat(b.available()).isEqualTo(DEPOSIT.baseUnits());
            assertThat(b.incoming()).isZero();
        });
        assertThat(reconciler.reconcile(List.of(token)).clean()).isTrue();
        mine(DEPTH);
        VaultIndexer.PollResult after = indexer.poll();
        assertThat(after.credited() + after.held() + after.voided()).isZero();
        assertThat(balance().available()).isEqualTo(DEPOSIT.baseUnits());
    }

    @Test
    void F8_theSameDepositMinedAgainInAnotherBlockAfterARevertIsCreditedOnce() throws IOException {
        Credentials depositor = DevAccounts.account(ALICE);
        String signed = signedDeposit(depositor, DEPOSIT);
        String beforeDeposit = snapshot();
        String txHash = send(signed);
        mine(HOLD);
        assertThat(indexer.poll().held()).isEqualTo(1);
        long firstBlock = receiptBlock(txHash);

        // The chain drops the block; the same signed transaction is mined again, one block later.
        chain.client().rawRequest("evm_revert", List.of(beforeDeposit));
        chain.increaseTime(60);
        assertThat(send(signed)).isEqualTo(txHash);
        assertThat(receiptBlock(txHash)).isEqualTo(firstBlock + 1);
        mine(DEPTH);

        VaultIndexer.PollResult poll = indexer.poll();
        assertThat(poll.voided()).as("the hold from the dropped block").isEqualTo(1);
        assertThat(poll.credited()).as("the inclusion on the chain, once").isEqualTo(1);
        assertThat(balance()).satisfies(b -> {
            assertThat(b.balance()).isEqualTo(DEPOSIT.baseUnits());
            assertThat(b.incoming()).isZero();
        });
        assertThat(vault.settledBalance(token, alice)).isEqualTo(DEPOSIT);
        assertThat(reconciler.reconcile(List.of(token)).clean()).isTrue();
        mine(DEPTH);
        VaultIndexer.PollResult again = indexer.poll();
        assertThat(again.credited() + again.held() + again.voided()).isZero();
        assertThat(balance().balance()).isEqualTo(DEPOSIT.baseUnits());
    }

    @Test
    void F8_anEscapeHeldAtItsConfirmationsIsVoidedWhenTheChainDropsItsBlock() {
        deposit(DEPOSIT);
        mine(DEPTH);
        assertThat(indexer.poll().credited()).isEqualTo(1);
        chain.increaseTime(Duration.ofDays(1).toSeconds() + 1);
        mine(DEPTH);
        indexer.poll();

        String beforeEscape = snapshot();
        try (ChainClient own = ChainClient.connect(ChainSettings.local(chain.rpcUrl()))) {
            new SettlementVaultGateway(own, vault.address()).escapeWithdraw(own.signer(DevAccounts.account(ALICE)),
                    token);
        }
        mine(HOLD);
        assertThat(indexer.poll().held()).isEqualTo(1);
        assertThat(balance()).satisfies(b -> {
            assertThat(b.balance()).isEqualTo(DEPOSIT.baseUnits());
            assertThat(b.available()).as("frozen by the escape's hold").isZero();
        });
        assertThat(reconciler.reconcile(List.of(token)).clean()).isTrue();

        chain.client().rawRequest("evm_revert", List.of(beforeEscape));
        chain.increaseTime(60);
        mine(DEPTH);
        assertThat(indexer.poll().voided()).isEqualTo(1);
        assertThat(balance().available()).isEqualTo(DEPOSIT.baseUnits());
        assertThat(vault.settledBalance(token, alice)).isEqualTo(DEPOSIT);
        assertThat(reconciler.reconcile(List.of(token)).clean()).isTrue();
    }

    private AccountBalance balance() {
        return ledger.balance(AccountKey.user(alice, token)).orElseThrow();
    }

    private String snapshot() {
        return chain.client().rawRequest("evm_snapshot", List.of()).replace("\"", "");
    }

    private void mine(int blocks) {
        for (int i = 0; i < blocks; i++) {
            chain.client().rawRequest("evm_mine", List.of());
        }
    }

    private void deposit(Amount amount) {
        try (ChainClient own = ChainClient.connect(ChainSettings.local(chain.rpcUrl()))) {
            new SettlementVaultGateway(own, vault.address()).deposit(own.signer(DevAccounts.account(ALICE)), token,
                    amount);
        }
    }

    /** A signed {@code deposit(token, amount)} at the depositor's next nonce, to broadcast (again) later. */
    private String signedDeposit(Credentials depositor, Amount amount) throws IOException {
        var web3j = chain.client().web3j();
        BigInteger nonce = web3j.ethGetTransactionCount(depositor.getAddress(), DefaultBlockParameterName.PENDING)
                .send().getTransactionCount();
        BigInteger gasPrice = web3j.ethGasPrice().send().getGasPrice().multiply(BigInteger.valueOf(4));
        String data = FunctionEncoder.encode(new Function("deposit", List.of(
                new org.web3j.abi.datatypes.Address(token.hex()), new Uint256(amount.baseUnits())), List.of()));
        RawTransaction raw = RawTransaction.createTransaction(nonce, gasPrice, BigInteger.valueOf(300_000),
                vault.address().hex(), BigInteger.ZERO, data);
        return Numeric.toHexString(TransactionEncoder.signMessage(raw, chain.client().chainId(), depositor));
    }

    private String send(String signed) throws IOException {
        var sent = chain.client().web3j().ethSendRawTransaction(signed).send();
        if (sent.hasError()) {
            throw new ChainException("eth_sendRawTransaction failed: " + sent.getError().getMessage());
        }
        return sent.getTransactionHash();
    }

    private long receiptBlock(String txHash) throws IOException {
        var receipt = chain.client().web3j().ethGetTransactionReceipt(txHash).send().getTransactionReceipt()
                .orElseThrow();
        assertThat(receipt.getStatus()).isEqualTo("0x1");
        return receipt.getBlockNumber().longValueExact();
    }
}
