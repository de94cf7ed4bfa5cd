package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;

/**
 * Both participants' authorization to raise {@code participant}'s withdrawn total to
 * {@code totalWithdrawn}; the contract pays the difference to what was withdrawn before. A total,
 * not an amount: of several authorizations at most the largest total is ever paid. Void after
 * {@code expiry} (a block timestamp, in seconds).
 */
public record Withdrawal(Bytes32 channelId, Address participant, Amount totalWithdrawn, Instant expiry)
        implements ChannelTypedData {
    public static final String TYPE =
            "Withdrawal(bytes32 channelId,address participant,uint256 totalWithdrawn,uint256 expiry)";

    public Withdrawal {
        Objects.requireNonNull(channelId, "channelId");
        Objects.requireNonNull(participant, "participant");
        Objects.requireNonNull(totalWithdrawn, "totalWithdrawn");
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
        return new Abi().word(Abi.keccak(TYPE)).word(channelId).address(participant)
                .uint256(totalWithdrawn.baseUnits()).uint256(expirySeconds()).keccak();
    }
}
