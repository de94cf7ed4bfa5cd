package dev.agentescrow.batcher.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.FaultyRpcProxy;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementBatch.Delta;
import dev.agentescrow.chain.vault.SettlementBatch.TokenSettlement;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Resilient calls through a proxy that injects RPC faults in front of a real Hardhat node. */
@ExtendWith(LocalChainExtension.class)
class ResilientRpcIT {
    /** A key no other test sends from, so this test's nonce sequence is its own. */
    private static final int OPERATOR = 11;

    private static RpcResilienceConfig fastRetries() {
        return new RpcResilienceConfig(5, Duration.ofMillis(5), 2.0, Duration.ofMillis(50), 0.5, 50f, 50,
                Duration.ofSeconds(30), 1);
    }

    @Test
    void readsSucceedThroughInjectedFailures(LocalChain chain) {
        SettlementVaultGateway direct = chain.deployment().vault(chain.client());
        try (FaultyRpcProxy proxy = FaultyRpcProxy.start(chain.rpcUrl());
             ChainClient proxied = ChainClient.connect(ChainSettings.local(proxy.rpcUrl()))) {
            SettlementVaultGateway vault = new SettlementVaultGateway(proxied, direct.address());
            ResilientRpc rpc = new ResilientRpc("reads", fastRetries());
            proxy.failNext("eth_call", 3);

            long lastBatchId = rpc.call(vault::lastBatchId);

            assertThat(lastBatchId).isEqualTo(direct.lastBatchId());
            assertThat(proxy.forwardedCount("eth_call")).isEqualTo(1);
            assertThat(rpc.retry().getMetrics().getNumberOfSuccessfulCallsWithRetryAttempt()).isEqualTo(1);
        }
    }

    @Test
    void aSettlementWhoseAnswerWasLostAppliesOnceAndItsRetryIsRefusedByTheVault(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer alice = chain.account(12);
        Signer bob = chain.account(13);
        Erc20Token token = chain.deployment().token(chain.client());
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                Address.of(DevAccounts.account(OPERATOR).getAddress()), Duration.ofDays(1));
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        for (Signer agent : List.of(alice, bob)) {
            token.mint(admin, agent.address(), Amount.of(1_000));
            vault.deposit(agent, token.address(), Amount.of(1_000));
        }
        SettlementBatch batch = new SettlementBatch(1, Bytes32.fromHex("0x" + "ab".repeat(32)), List.of(
                new TokenSettlement(token.address(), List.of(
                        new Delta(alice.address(), BigInteger.valueOf(-250)),
                        new Delta(bob.address(), BigInteger.valueOf(250))), List.of())));

        try (FaultyRpcProxy proxy = FaultyRpcProxy.start(chain.rpcUrl());
             ChainClient proxied = ChainClient.connect(ChainSettings.local(proxy.rpcUrl()))) {
            Signer operator = proxied.signer(DevAccounts.account(OPERATOR));
            SettlementVaultGateway operatorVault = new SettlementVaultGateway(proxied, vault.address());
            ResilientRpc rpc = new ResilientRpc("settle", fastRetries());
            proxy.loseResponseNext("eth_sendRawTransaction", 1);

            // The node applies the batch but its answer is lost; the retry is refused by the
            // vault because batch 1 is no longer the next id, so nothing applies twice.
            assertThatThrownBy(() -> rpc.call(() -> operatorVault.settleBatch(operator, batch)))
                    .isInstanceOfSatisfying(ContractRevertedException.class,
                            e -> assertThat(e.errorName()).contains("VaultBatchIdMismatch"));
            assertThat(proxy.forwardedCount("eth_sendRawTransaction")).isEqualTo(1);
        }
        assertThat(vault.lastBatchId()).isEqualTo(1);
        assertThat(vault.settledBalance(token.address(), alice.address())).isEqualTo(Amount.of(750));
        assertThat(vault.settledBalance(token.address(), bob.address())).isEqualTo(Amount.of(1_250));
        assertThat(vault.batchesSettledBetween(0, chain.client().blockNumber()))
                .singleElement().satisfies(settled -> assertThat(settled.batchId()).isEqualTo(1));
    }
}
