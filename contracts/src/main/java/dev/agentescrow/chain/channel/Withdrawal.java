package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;

/**
 * Both participants' authorization to pay {@code amount} out of an open channel to
 * {@code participant}. {@code nonce} must exceed the channel's nonce floor and becomes the new
 * floor; the authorization is void after {@code expiry} (a block timestamp, in seconds).
 */
public record Withdrawal(Bytes32 channelId, Address participant, Amount amount, ChannelNonce nonce, Instant expiry)
        implements ChannelTypedData {
    public static final String TYPE =
            "Withdrawal(bytes32 channelId,address participant,uint256 amount,uint256 nonce,uint256 expiry)";

    public Withdrawal {
        Objects.requireNonNull(channelId, "channelId");
        Objects.requireNonNull(participant, "participant");
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(expiry, "expiry");
        if (expiry.getEpochSecond() < 0) {
            throw new IllegalArgumentException("expiry must not be before 1970: " + expiry);
        }
    }

    /** The expiry as the contract sees it: seconds since the epoch. */
    public BigInteger expirySeconds() {
        return BigInteger.valueOf(expiry.getEpochSecond());
    }

    @Override
    public String typeString() {
        return TYPE;
    }

    @Override
    public Bytes32 structHash() {
        return new Abi().word(Abi.keccak(TYPE)).word(channelId).address(participant).uint256(amount.baseUnits())
                .uint256(nonce.value()).uint256(expirySeconds()).keccak();
    }
}
