package dev.agentescrow.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * The fee fields of an EIP-1559 (type 2) transaction, in wei per gas: the most the sender pays
 * per gas in all ({@code maxFeePerGas}) and the most of it that goes to the block producer
 * ({@code maxPriorityFeePerGas}). A legacy transaction's {@code gasPrice} reads as both.
 */
public record GasFees(BigInteger maxFeePerGas, BigInteger maxPriorityFeePerGas) {
    public GasFees {
        Objects.requireNonNull(maxFeePerGas, "maxFeePerGas");
        Objects.requireNonNull(maxPriorityFeePerGas, "maxPriorityFeePerGas");
        if (maxPriorityFeePerGas.signum() < 0) {
            throw new IllegalArgumentException("maxPriorityFeePerGas must not be negative: " + maxPriorityFeePerGas);
        }
        if (maxFeePerGas.compareTo(maxPriorityFeePerGas) < 0) {
            throw new IllegalArgumentException("maxFeePerGas " + maxFeePerGas + " is below maxPriorityFeePerGas "
                    + maxPriorityFeePerGas);
        }
    }

    public static GasFees of(long maxFeePerGas, long maxPriorityFeePerGas) {
        return new GasFees(BigInteger.valueOf(maxFeePerGas), BigInteger.valueOf(maxPriorityFeePerGas));
    }

    @Override
    public String toString() {
        return "GasFees[max " + maxFeePerGas + ", priority " + maxPriorityFeePerGas + " wei/gas]";
    }
}
