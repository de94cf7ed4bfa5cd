package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;

/**
 * The final withdrawn totals both participants sign to settle a channel at once: together they
 * must equal all deposits, and each participant is paid its total minus what it withdrew already.
 * Void after {@code expiry} (a block timestamp, in seconds).
 */
public record CooperativeClose(Bytes32 channelId, Amount totalWithdrawnA, Amount totalWithdrawnB, Instant expiry)
        implements ChannelTypedData {
    public static final String TYPE = "CooperativeClose(bytes32 channelId,uint256 totalWithdrawnA,"
            + "uint256 totalWithdrawnB,uint256 expiry)";

    public CooperativeClose {
        Objects.requireNonNull(channelId, "channelId");
        Objects.requireNonNull(totalWithdrawnA, "totalWithdrawnA");
        Objects.requireNonNull(totalWithdrawnB, "totalWithdrawnB");
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
        return new Abi().word(Abi.keccak(TYPE)).word(channelId).uint256(totalWithdrawnA.baseUnits())
                .uint256(totalWithdrawnB.baseUnits()).uint256(expirySeconds()).keccak();
    }
}
