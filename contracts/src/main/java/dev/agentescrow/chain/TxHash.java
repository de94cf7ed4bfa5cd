package dev.agentescrow.chain;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/** A 32-byte transaction hash, lower-case hex with 0x. */
public record TxHash(String value) {
    private static final Pattern HEX64 = Pattern.compile("0x[0-9a-fA-F]{64}");

    public TxHash {
        Objects.requireNonNull(value, "txHash");
        if (!HEX64.matcher(value).matches()) {
            throw new IllegalArgumentException("not a transaction hash: " + value);
        }
        value = value.toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return value;
    }
}
