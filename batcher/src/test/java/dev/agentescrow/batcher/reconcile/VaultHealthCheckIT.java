package dev.agentescrow.batcher.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
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
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A listed token's vault balance that moves without a vault event (what a rebasing token does;
 * here tokens sent to the vault directly) is reported as a custody drift, until the admin sweeps
 * the stray tokens; a frozen vault is reported too.
 */
@ExtendWith(LocalChainExtension.class)
class VaultHealthCheckIT {
    @Test
    void reportsABalanceThatMovedWithoutAnEventAndAFrozenVault(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer alice = chain.account(18);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Health USD", "HUSD", 6);
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                chain.account(LocalChain.OPERATOR).address(), Duration.ofDays(1));
        Address usd = token.address();
        vault.listToken(admin, usd, TokenLimits.UNLIMITED);
        token.mint(admin, alice.address(), Amount.of(1_000));
        vault.deposit(alice, usd, Amount.of(600));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        VaultHealthCheck check = new VaultHealthCheck(chain.client(), vault,
                new ResilientRpc("health", RpcResilienceConfig.defaults()), Clock.systemUTC(), meters);

        assertThat(check.check(List.of(usd)).healthy()).isTrue();

        token.transfer(alice, vault.address(), Amount.of(7));
        VaultHealthCheck.VaultHealth drifted = check.check(List.of(usd));
        assertThat(drifted.drifts()).containsExactly(
                new VaultHealthCheck.CustodyDrift(usd, BigInteger.valueOf(607), BigInteger.valueOf(600)));
        assertThat(meters.find("vault.custody.drifts").gauge().value()).isEqualTo(1.0);

        vault.sweepStray(admin, usd, admin.address());
        assertThat(check.check(List.of(usd)).healthy()).isTrue();

        chain.increaseTime(Duration.ofDays(1).toSeconds() + 1);
        vault.escapeWithdraw(alice, usd);
        VaultHealthCheck.VaultHealth frozen = check.check(List.of(usd));
        assertThat(frozen.frozen()).isTrue();
        assertThat(frozen.drifts()).isEmpty();
        assertThat(meters.find("vault.frozen").gauge().value()).isEqualTo(1.0);
    }
}
