package dev.agentescrow.chain.escrow;

import java.math.BigInteger;

/** A fee rate in basis points (1 bp = 0.01%), between 0 and 10,000. */
public record BasisPoints(int value) {
    /** 10,000 bp = 100%. */
    public static final int ONE_HUNDRED_PERCENT = 10_000;

    public BasisPoints {
        if (value < 0 || value > ONE_HUNDRED_PERCENT) {
            throw new IllegalArgumentException("basis points must be in [0, 10000]: " + value);
        }
    }

    public static BasisPoints of(int value) {
        return new BasisPoints(value);
    }

    BigInteger toBigInteger() {
        return BigInteger.valueOf(value);
    }

    @Override
    public String toString() {
        return value + " bp";
    }
}
