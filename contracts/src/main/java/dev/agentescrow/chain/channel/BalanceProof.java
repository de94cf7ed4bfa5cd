package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.util.Objects;

/**
 * What one participant has transferred to the other in total, at {@code nonce}, signed by that
 * participant's signing key. Totals only grow; the contract keeps, per participant, the proof with
 * the largest total, so no deposit, withdrawal or later proof can make it worth less. Nonce 0 is
 * not a proof.
 */
public record BalanceProof(Bytes32 channelId, ChannelNonce nonce, Amount transferred) implements ChannelTypedData {
    public static final String TYPE = "BalanceProof(bytes32 channelId,uint256 nonce,uint256 transferred)";

    public BalanceProof {
        Objects.requireNonNull(channelId, "channelId");
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(transferred, "transferred");
    }

    @Override
    public String typeString() {
        return TYPE;
    }

    @Override
    public Bytes32 structHash() {
        return new Abi().word(Abi.keccak(TYPE)).word(channelId).uint256(nonce.value()).uint256(transferred.baseUnits())
                .keccak();
    }
}
