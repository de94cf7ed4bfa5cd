package dev.agentescrow.chain;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.web3j.crypto.Keys;

/**
 * A 20-byte Ethereum address. Stored lower-case; {@link #toString()} gives the EIP-55
 * checksummed form. Construction rejects anything that is not 0x followed by 40 hex digits, and
 * rejects a mixed-case address whose EIP-55 checksum is wrong.
 */
public record Address(String value) implements Comparable<Address> {
    private static final Pattern HEX40 = Pattern.compile("0x[0-9a-fA-F]{40}");

    /** The zero address. */
    public static final Address ZERO = new Address("0x0000000000000000000000000000000000000000");

    public Address {
        Objects.requireNonNull(value, "address");
        if (!HEX40.matcher(value).matches()) {
            throw new IllegalArgumentException("not an address (0x and 40 hex digits): " + value);
        }
        String hex = value.substring(2);
        boolean mixedCase = !hex.equals(hex.toLowerCase(Locale.ROOT)) && !hex.equals(hex.toUpperCase(Locale.ROOT));
        String lower = "0x" + hex.toLowerCase(Locale.ROOT);
        if (mixedCase && !Keys.toChecksumAddress(lower).equals(value)) {
            throw new IllegalArgumentException("address has a wrong EIP-55 checksum: " + value);
        }
        value = lower;
    }

    public static Address of(String value) {
        return new Address(value);
    }

    /** Whether {@code value} parses as an address. */
    public static boolean isValid(String value) {
        try {
            new Address(value);
            return true;
        } catch (IllegalArgumentException | NullPointerException e) {
            return false;
        }
    }

    /** Lower-case hex form, as web3j wrappers take it. */
    public String hex() {
        return value;
    }

    public String checksummed() {
        return Keys.toChecksumAddress(value);
    }

    @Override
    public String toString() {
        return checksummed();
    }

    @Override
    public int compareTo(Address other) {
        return value.compareTo(other.value);
    }
}
