package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.protocol.core.DefaultBlockParameterName;

@ExtendWith(LocalChainExtension.class)
class DeploymentIT {

    @Test
    void theHarnessDeploysTheWholeContractSetWithItsRoles(LocalChain chain) {
        Deployment deployment = chain.deployment();
        ChainClient client = chain.client();

        assertThat(Set.of(deployment.token(), deployment.vault(), deployment.escrow(), deployment.channels()))
                .hasSize(4)
                .allSatisfy(address -> assertThat(code(client, address)).as("code at %s", address).hasSizeGreaterThan(2));
        assertThat(deployment.admin()).isEqualTo(chain.account(LocalChain.ADMIN).address());
        assertThat(deployment.operator()).isEqualTo(chain.account(LocalChain.OPERATOR).address());
        assertThat(deployment.escrow(client).fee()).isEqualTo(BasisPoints.of(100));
        assertThat(deployment.escrow(client).feeRecipient()).isEqualTo(chain.account(LocalChain.FEE_RECIPIENT).address());
        assertThat(deployment.vault(client).paused()).isFalse();
    }

    @Test
    void theOperatorSettlesOnTheSharedVaultAndAStrangerCannot(LocalChain chain) {
        var vault = chain.deployment().vault(chain.client());
        long next = vault.lastBatchId() + 1;
        var empty = new SettlementBatch(next, Bytes32.ZERO, List.of());

        assertThatThrownBy(() -> vault.settleBatch(chain.account(7), empty))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("AccessControlUnauthorizedAccount"));
        vault.settleBatch(chain.account(LocalChain.OPERATOR), empty);
        assertThat(vault.lastBatchId()).isEqualTo(next);
    }

    private static String code(ChainClient client, Address address) {
        try {
            return client.web3j().ethGetCode(address.hex(), DefaultBlockParameterName.LATEST).send().getCode();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
