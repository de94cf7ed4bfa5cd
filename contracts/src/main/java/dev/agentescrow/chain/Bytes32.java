package dev.agentescrow.chain;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/** A 32-byte value (ids, hashes, Merkle roots) as Solidity's {@code bytes32}. */
public record Bytes32(byte[] bytes) {
    public static final Bytes32 ZERO = new Bytes32(new byte[32]);

    public Bytes32 {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != 32) {
            throw new IllegalArgumentException("bytes32 needs 32 bytes, got " + bytes.length);
        }
        bytes = bytes.clone();
    }

    public static Bytes32 fromHex(String hex) {
        String digits = hex.startsWith("0x") ? hex.substring(2) : hex;
        return new Bytes32(HexFormat.of().parseHex(digits));
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public String hex() {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes32 other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
