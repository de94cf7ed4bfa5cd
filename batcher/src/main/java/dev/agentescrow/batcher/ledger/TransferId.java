package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/**
 * A client-supplied 128-bit transfer id, unsigned; it is the transfer's idempotency key. Stored
 * as a PostgreSQL {@code uuid} (the same 16 bytes); as a {@code bytes32} (the on-chain Merkle
 * leaf) it is left-padded with zeros.
 */
public record TransferId(long high, long low) implements Comparable<TransferId> {
    private static final BigInteger MAX = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

    /** The id as an unsigned 128-bit integer: 0 to 2^128 - 1. */
    public static TransferId of(BigInteger value) {
        Objects.requireNonNull(value, "value");
        if (value.signum() < 0 || value.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("transfer id must be in [0, 2^128 - 1]: " + value);
        }
        return new TransferId(value.shiftRight(64).longValue(), value.longValue());
    }

    public static TransferId of(UUID uuid) {
        return new TransferId(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
    }

    /** Parses 1 to 32 hex digits, with or without a 0x prefix, or a UUID string. */
    public static TransferId parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.length() == 36 && text.charAt(8) == '-') {
            return of(UUID.fromString(text));
        }
        String hex = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        if (!hex.matches("[0-9a-fA-F]{1,32}")) {
            throw new IllegalArgumentException("transfer id must be 1-32 hex digits or a UUID: " + text);
        }
        return of(new BigInteger(hex, 16));
    }

    /** Whether {@code text} parses as a transfer id. */
    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException | NullPointerException e) {
            return false;
        }
    }

    public BigInteger toBigInteger() {
        return new BigInteger(1, bytes());
    }

    public UUID toUuid() {
        return new UUID(high, low);
    }

    /** The 16 big-endian bytes. */
    public byte[] bytes() {
        byte[] out = new byte[16];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (high >>> (56 - 8 * i));
            out[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return out;
    }

    /** The id as a {@code bytes32}: 16 zero bytes, then the 16 id bytes. */
    public Bytes32 toBytes32() {
        byte[] out = new byte[32];
        System.arraycopy(bytes(), 0, out, 16, 16);
        return new Bytes32(out);
    }

    /** 32 lower-case hex digits with 0x. */
    public String hex() {
        return "0x" + HexFormat.of().formatHex(bytes());
    }

    @Override
    public int compareTo(TransferId other) {
        int c = Long.compareUnsigned(high, other.high);
        return c != 0 ? c : Long.compareUnsigned(low, other.low);
    }

    @Override
    public String toString() {
        return hex();
    }
}
