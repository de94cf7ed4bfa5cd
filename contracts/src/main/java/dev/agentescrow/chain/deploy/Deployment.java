package dev.agentescrow.chain.deploy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.util.Objects;

/**
 * Where the system's contracts live on one chain, and who holds their roles.
 *
 * @param token the ERC-20 settled by default (the test token on local chains)
 * @param vault the SettlementVault
 * @param escrow the TaskEscrow
 * @param channels the PaymentChannels
 * @param admin holder of the admin roles
 * @param operator holder of the vault's settlement operator role
 * @param feeRecipient receiver of escrow fees
 */
public record Deployment(Address token, Address vault, Address escrow, Address channels, Address admin,
                         Address operator, Address feeRecipient) {
    public Deployment {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(escrow, "escrow");
        Objects.requireNonNull(channels, "channels");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(feeRecipient, "feeRecipient");
    }

    public Erc20Token token(ChainClient client) {
        return new Erc20Token(client, token);
    }

    public SettlementVaultGateway vault(ChainClient client) {
        return new SettlementVaultGateway(client, vault);
    }

    public TaskEscrowGateway escrow(ChainClient client) {
        return new TaskEscrowGateway(client, escrow);
    }

    public PaymentChannelsGateway channels(ChainClient client) {
        return new PaymentChannelsGateway(client, channels);
    }
}
