package dev.agentescrow.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * What the node says gas costs now: the base fee of the block it would build next (burnt, the
 * same for every transaction in that block) and the priority fee it suggests on top.
 */
public record FeeMarket(BigInteger baseFeePerGas, BigInteger maxPriorityFeePerGas) {
    public FeeMarket {
        Objects.requireNonNull(baseFeePerGas, "baseFeePerGas");
        Objects.requireNonNull(maxPriorityFeePerGas, "maxPriorityFeePerGas");
        if (baseFeePerGas.signum() < 0 || maxPriorityFeePerGas.signum() < 0) {
            throw new IllegalArgumentException("fees must not be negative: " + baseFeePerGas + ", "
                    + maxPriorityFeePerGas);
        }
    }
}
