package dev.agentescrow.backend.common.web;

import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Checks request fields as strings and collects field errors ({@code errors[]} of a 400), so that
 * no input, however malformed, reaches the layers below.
 */
public final class Inputs {
    private static final Pattern AMOUNT = Pattern.compile("[0-9]{1,78}");
    private static final Pattern UUID_TEXT = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final BigInteger MAX_UINT256 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

    /**
     * Addresses parsed before, by their exact text: checking a mixed-case address's EIP-55 checksum
     * is a Keccak hash, and a batch of 1,000 transfers names the same few addresses 2,000 times
     * (it was most of a batch request's CPU). Parsing is a pure function of the text; bounded.
     */
    private static final Map<String, Address> PARSED = new ConcurrentHashMap<>();
    private static final int MAX_PARSED = 10_000;

    private final String prefix;
    private final List<Map<String, String>> errors = new ArrayList<>();

    private Inputs(String prefix) {
        this.prefix = prefix;
    }

    public static Inputs check() {
        return new Inputs("");
    }

    public static Inputs check(String prefix) {
        return new Inputs(prefix);
    }

    public Address address(String field, String value) {
        if (value == null) {
            return error(field, "REQUIRED", "required");
        }
        Address address = PARSED.get(value);
        if (address == null) {
            address = parse(value);
            if (address == null || address.equals(Address.ZERO)) {
                return error(field, "INVALID_ADDRESS", "not a 20-byte hex address (or the zero address)");
            }
            if (PARSED.size() >= MAX_PARSED) {
                PARSED.clear();
            }
            PARSED.put(value, address);
        }
        return address;
    }

    private static Address parse(String value) {
        try {
            return Address.of(value);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A positive integer amount of base units, at most 2^256 - 1, as a decimal string. */
    public BigInteger amount(String field, String value) {
        if (value == null) {
            return error(field, "REQUIRED", "required");
        }
        if (!AMOUNT.matcher(value).matches()) {
            return error(field, "INVALID_AMOUNT", "a decimal string of base units, at most 78 digits");
        }
        BigInteger amount = new BigInteger(value);
        if (amount.signum() <= 0 || amount.compareTo(MAX_UINT256) > 0) {
            return error(field, "INVALID_AMOUNT", "must be in [1, 2^256 - 1]");
        }
        return amount;
    }

    public String reference(String field, String value) {
        if (!TransferRequest.isValidReference(value)) {
            return error(field, "INVALID_REFERENCE", "at most 128 characters, no control characters");
        }
        return value;
    }

    public java.util.UUID uuid(String field, String value) {
        if (value == null) {
            return null;
        }
        if (!UUID_TEXT.matcher(value).matches()) {
            return error(field, "INVALID_ID", "a UUID");
        }
        return java.util.UUID.fromString(value);
    }

    public <T> T error(String field, String code, String message) {
        errors.add(Map.of("field", prefix + field, "code", code, "message", message));
        return null;
    }

    public boolean ok() {
        return errors.isEmpty();
    }

    public List<Map<String, String>> errors() {
        return List.copyOf(errors);
    }

    /** Throws 400 VALIDATION_FAILED with every error collected, if any. */
    public void orThrow() {
        if (!errors.isEmpty()) {
            throw new ApiException(org.springframework.http.HttpStatus.BAD_REQUEST, "VALIDATION_FAILED",
                    "the request has invalid fields", errors, Map.of());
        }
    }
}
