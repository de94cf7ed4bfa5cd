package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.util.Objects;

/**
 * The final balances both participants sign to settle a channel at once. A type of its own, so
 * that no ordinary balance proof can end a channel without a challenge window.
 */
public record CooperativeClose(Bytes32 channelId, ChannelNonce nonce, Amount balanceA, Amount balanceB)
        implements ChannelTypedData {
    public static final String TYPE =
            "CooperativeClose(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)";

    public CooperativeClose {
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
