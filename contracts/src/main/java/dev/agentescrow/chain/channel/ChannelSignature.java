package dev.agentescrow.chain.channel;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A 65-byte ECDSA signature in the {@code r || s || v} layout that ethers' {@code signTypedData}
 * produces and the contract takes ({@code v} is 27 or 28).
 */
public record ChannelSignature(byte[] bytes) {
    public static final int LENGTH = 65;

    public ChannelSignature {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("signature needs " + LENGTH + " bytes, got " + bytes.length);
        }
        bytes = bytes.clone();
    }

    public static ChannelSignature fromHex(String hex) {
        String digits = hex.startsWith("0x") ? hex.substring(2) : hex;
        return new ChannelSignature(HexFormat.of().parseHex(digits));
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    public byte[] r() {
        return Arrays.copyOfRange(bytes, 0, 32);
    }

    public byte[] s() {
        return Arrays.copyOfRange(bytes, 32, 64);
    }

    public byte v() {
        return bytes[64];
    }

    public String hex() {
        return "0x" + HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelSignature other && Arrays.equals(bytes, other.bytes);
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
