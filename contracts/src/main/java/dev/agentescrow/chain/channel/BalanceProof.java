package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.util.Objects;

/**
 * A channel's state at {@code nonce}: what each side owns. Its balances must add up to the
 * channel's funds (deposits minus withdrawals) when it is used on chain. Signed by the
 * counterparty of whoever submits it.
 */
public record BalanceProof(Bytes32 channelId, ChannelNonce nonce, Amount balanceA, Amount balanceB)
        implements ChannelTypedData {
    public static final String TYPE =
            "BalanceProof(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)";

    public BalanceProof {
        Objects.requireNonNull(channelId, "channelId");
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(balanceA, "balanceA");
        Objects.requireNonNull(balanceB, "balanceB");
    }

    @Override
    public String typeString() {
        return TYPE;
    }

    @Override
    public Bytes32 structHash() {
        return Abi.balancesStructHash(TYPE, channelId, nonce, balanceA, balanceB);
    }
}
