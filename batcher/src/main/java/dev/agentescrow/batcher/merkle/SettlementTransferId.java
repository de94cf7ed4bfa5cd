package dev.agentescrow.batcher.merkle;

import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * The 128-bit id of a settled movement (a transfer's idempotency key), as it appears in a Merkle
 * leaf: an unsigned integer in [0, 2^128 - 1], left-padded with zeros to a {@code bytes32}.
 */
public record SettlementTransferId(BigInteger value) implements Comparable<SettlementTransferId> {
    /** 2^128 - 1, the largest id. */
    public static final BigInteger MAX_VALUE = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

    public SettlementTransferId {
        Objects.requireNonNull(value, "value");
        if (value.signum() < 0 || value.compareTo(MAX_VALUE) > 0) {
            throw new IllegalArgumentException("transfer id must be in [0, 2^128 - 1]: " + value);
        }
    }

    public static SettlementTransferId of(BigInteger value) {
        return new SettlementTransferId(value);
    }

    public static SettlementTransferId of(long value) {
        return new SettlementTransferId(BigInteger.valueOf(value));
    }

    /** The id whose 16 big-endian bytes are the UUID's most then least significant bits. */
    public static SettlementTransferId of(UUID uuid) {
        BigInteger high = new BigInteger(Long.toUnsignedString(uuid.getMostSignificantBits()));
        BigInteger low = new BigInteger(Long.toUnsignedString(uuid.getLeastSignificantBits()));
        return new SettlementTransferId(high.shiftLeft(64).or(low));
    }

    /** The id of a {@code bytes32} leaf field; its upper 16 bytes must be zero. */
    public static SettlementTransferId fromBytes32(Bytes32 word) {
        byte[] bytes = word.bytes();
        for (int i = 0; i < 16; i++) {
            if (bytes[i] != 0) {
                throw new IllegalArgumentException("not a 128-bit id left-padded to bytes32: " + word);
            }
        }
        return new SettlementTransferId(new BigInteger(1, Arrays.copyOfRange(bytes, 16, 32)));
    }

    /** The id left-padded to 32 bytes, the leaf's {@code bytes32 transferId}. */
    public Bytes32 toBytes32() {
        byte[] word = new byte[32];
        byte[] magnitude = value.toByteArray();
        int length = Math.min(magnitude.length, 16);
        System.arraycopy(magnitude, magnitude.length - length, word, 32 - length, length);
        return new Bytes32(word);
    }

    @Override
    public int compareTo(SettlementTransferId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return toBytes32().hex();
    }
}
