package dev.agentescrow.chain;

import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;

/**
 * An EIP-2612 permit signature for {@code value} valid until {@code deadline}, in the split form
 * ({@code v}, {@code r}, {@code s}) that the contracts' {@code ...WithPermit} functions take. The
 * deadline travels with the signature, so a call always passes the deadline that was signed.
 */
public record Erc20Permit(Amount value, Instant deadline, int v, Bytes32 r, Bytes32 s) {
    public Erc20Permit {
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(r, "r");
        Objects.requireNonNull(s, "s");
        if (deadline.getEpochSecond() < 0) {
            throw new IllegalArgumentException("permit deadline before 1970: " + deadline);
        }
        if (v != 27 && v != 28) {
            throw new IllegalArgumentException("v must be 27 or 28: " + v);
        }
    }

    /** The deadline as the {@code uint256} of Unix seconds that was signed. */
    public BigInteger deadlineSeconds() {
        return BigInteger.valueOf(deadline.getEpochSecond());
    }
}
