package dev.agentescrow.chain.deploy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import java.time.Duration;
import java.util.Objects;

/** Deploys the whole contract set: a test token, the vault, the escrow and the channels. */
public final class Deployer {
    /** Decimals of the test token, as a USD stablecoin has. */
    public static final int TEST_TOKEN_DECIMALS = 6;
    /**
     * PaymentChannels' protocol minimum challenge period on local chains and in tests; production
     * deployments use one day or more.
     */
    public static final Duration LOCAL_CHANNEL_MIN_CHALLENGE_PERIOD = Duration.ofMinutes(10);

    private Deployer() {
    }

    /**
     * What to deploy with.
     *
     * @param admin holder of the admin roles of the vault and the escrow
     * @param operator holder of the vault's settlement operator role
     * @param feeRecipient receiver of escrow fees
     * @param fee escrow platform fee
     * @param escapeDelay how long without a settled batch before the vault's escape hatch opens
     */
    public record Plan(Address admin, Address operator, Address feeRecipient, BasisPoints fee, Duration escapeDelay) {
        public Plan {
            Objects.requireNonNull(admin, "admin");
            Objects.requireNonNull(operator, "operator");
            Objects.requireNonNull(feeRecipient, "feeRecipient");
            Objects.requireNonNull(fee, "fee");
            Objects.requireNonNull(escapeDelay, "escapeDelay");
        }
    }

    /**
     * Deploys a fresh test token and the three contracts, all from {@code deployer}; when the
     * deployer is the admin, it also lists the test token in the vault with
     * {@link TokenLimits#UNLIMITED} (no outflow limit: local chains and tests).
     */
    public static Deployment deployWithTestToken(ChainClient client, Signer deployer, Plan plan) {
        Erc20Token token = Erc20Token.deployTestToken(client, deployer, "Test USD", "TUSD", TEST_TOKEN_DECIMALS);
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(client, deployer, plan.admin(), plan.operator(),
                plan.escapeDelay());
        if (deployer.address().equals(plan.admin())) {
            vault.listToken(deployer, token.address(), TokenLimits.UNLIMITED);
        }
        TaskEscrowGateway escrow = TaskEscrowGateway.deploy(client, deployer, plan.admin(), plan.feeRecipient(),
                plan.fee());
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(client, deployer,
                LOCAL_CHANNEL_MIN_CHALLENGE_PERIOD);
        return new Deployment(token.address(), vault.address(), escrow.address(), channels.address(), plan.admin(),
                plan.operator(), plan.feeRecipient());
    }
}
