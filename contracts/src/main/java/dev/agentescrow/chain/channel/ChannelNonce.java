package dev.agentescrow.chain.channel;

import java.math.BigInteger;
import java.util.Objects;

/**
 * The nonce of a balance proof: a {@code uint256}, growing with each proof a participant signs
 * (0 means "no proof"). The contract orders proofs by their transferred totals, clients by nonce.
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
