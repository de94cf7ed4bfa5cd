package dev.agentescrow.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A token amount in base units: an integer in [0, 2^256 - 1], the range of a Solidity
 * {@code uint256}. Never a floating-point number. Arithmetic that would leave the range throws.
 */
public record Amount(BigInteger baseUnits) implements Comparable<Amount> {
    /** 2^256 - 1, the largest {@code uint256}. */
    public static final BigInteger MAX_UINT256 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);

    public static final Amount ZERO = new Amount(BigInteger.ZERO);

    public Amount {
        Objects.requireNonNull(baseUnits, "baseUnits");
        if (baseUnits.signum() < 0) {
            throw new IllegalArgumentException("amount must not be negative: " + baseUnits);
        }
        if (baseUnits.compareTo(MAX_UINT256) > 0) {
            throw new IllegalArgumentException("amount exceeds uint256: " + baseUnits);
        }
    }

    public static Amount of(long baseUnits) {
        return new Amount(BigInteger.valueOf(baseUnits));
    }

    public static Amount of(BigInteger baseUnits) {
        return new Amount(baseUnits);
    }

    /** Parses a decimal string of base units, the JSON form of an amount. */
    public static Amount parse(String decimal) {
        Objects.requireNonNull(decimal, "decimal");
        if (!decimal.matches("[0-9]{1,78}")) {
            throw new IllegalArgumentException("amount must be a decimal integer string: " + decimal);
        }
        return new Amount(new BigInteger(decimal));
    }

    /** Whole tokens times 10^decimals, e.g. {@code tokens(5, 6)} is 5,000,000 base units. */
    public static Amount tokens(long wholeTokens, int decimals) {
        return new Amount(BigInteger.valueOf(wholeTokens).multiply(BigInteger.TEN.pow(decimals)));
    }

    public Amount plus(Amount other) {
        return new Amount(baseUnits.add(other.baseUnits));
    }

    public Amount minus(Amount other) {
        return new Amount(baseUnits.subtract(other.baseUnits));
    }

    public boolean isZero() {
        return baseUnits.signum() == 0;
    }

    @Override
    public int compareTo(Amount other) {
        return baseUnits.compareTo(other.baseUnits);
    }

    @Override
    public String toString() {
        return baseUnits.toString();
    }
}
