package dev.agentescrow.chain.channel;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A nonce of a channel's signed messages: a {@code uint256}. Balance proofs of one channel are
 * ordered by it (a higher nonce is newer); withdrawals raise the channel's nonce floor.
 */
public record ChannelNonce(BigInteger value) implements Comparable<ChannelNonce> {
    /** 2^256 - 1, the largest nonce. */
    public static final BigInteger MAX_UINT256 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

    public static final ChannelNonce ZERO = new ChannelNonce(BigInteger.ZERO);

    public ChannelNonce {
        Objects.requireNonNull(value, "value");
        if (value.signum() < 0 || value.compareTo(MAX_UINT256) > 0) {
            throw new IllegalArgumentException("nonce must be a uint256: " + value);
        }
    }

    public static ChannelNonce of(long value) {
        return new ChannelNonce(BigInteger.valueOf(value));
    }

    public static ChannelNonce parse(String decimal) {
        return new ChannelNonce(new BigInteger(decimal));
    }

    /** The next nonce; throws past 2^256 - 1. */
    public ChannelNonce next() {
        return new ChannelNonce(value.add(BigInteger.ONE));
    }

    @Override
    public int compareTo(ChannelNonce other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value.toString();
    }
}
