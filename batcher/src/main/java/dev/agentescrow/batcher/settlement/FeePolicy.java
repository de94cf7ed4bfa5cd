package dev.agentescrow.batcher.settlement;

import dev.agentescrow.chain.FeeMarket;
import dev.agentescrow.chain.GasFees;
import java.math.BigInteger;
import java.util.Objects;
import java.util.Optional;

/**
 * How settlement prices its EIP-1559 transactions and when it replaces a stuck one.
 *
 * <ul>
 *   <li>First signature: {@code maxPriorityFeePerGas} as the node suggests, {@code maxFeePerGas}
 *       twice the next block's base fee plus that (room for six full blocks of base fee rises),
 *       both at most {@code maxFeePerGasCapWei}. When the cap is below the base fee nothing is
 *       signed ({@link #initial} is empty): such a transaction could not be mined.</li>
 *   <li>A transaction that no block has taken {@code replaceAfterBlocks} blocks after it was signed
 *       is replaced at the same nonce: both fees raised by {@code bumpPercent} (at least
 *       {@value #MIN_BUMP_PERCENT}%: nodes refuse a replacement that does not pay at least 10 to
 *       12.5% more of both) or to what a first signature would pay now, whichever is more, and at
 *       most the cap. When the cap leaves less than a 12.5% rise, nothing is replaced
 *       ({@link #replacement} is empty) and the submitter raises its alarm.</li>
 * </ul>
 *
 * @param replaceAfterBlocks blocks after signing before an unmined transaction is replaced
 * @param bumpPercent how much more each replacement pays, in percent of the last one's fees
 * @param maxFeePerGasCapWei the most settlement ever offers per gas, in wei
 */
public record FeePolicy(int replaceAfterBlocks, int bumpPercent, BigInteger maxFeePerGasCapWei) {
    /** The smallest rise nodes accept for a replacement, rounded up: 12.5% (go-ethereum asks 10%). */
    public static final int MIN_BUMP_PERCENT = 13;
    /** Replace after 3 blocks by default (36 s on mainnet). */
    public static final int DEFAULT_REPLACE_AFTER_BLOCKS = 3;
    /** Each replacement pays 25% more by default. */
    public static final int DEFAULT_BUMP_PERCENT = 25;
    /** 500 gwei per gas at most by default. */
    public static final BigInteger DEFAULT_MAX_FEE_PER_GAS_CAP_WEI = BigInteger.valueOf(500_000_000_000L);

    public FeePolicy {
        Objects.requireNonNull(maxFeePerGasCapWei, "maxFeePerGasCapWei");
        if (replaceAfterBlocks < 1) {
            throw new IllegalArgumentException("replaceAfterBlocks must be at least 1: " + replaceAfterBlocks);
        }
        if (bumpPercent < MIN_BUMP_PERCENT) {
            throw new IllegalArgumentException("bumpPercent must be at least " + MIN_BUMP_PERCENT
                    + " (nodes refuse smaller replacements): " + bumpPercent);
        }
        if (maxFeePerGasCapWei.signum() <= 0) {
            throw new IllegalArgumentException("maxFeePerGasCapWei must be positive: " + maxFeePerGasCapWei);
        }
    }

    /** Replace after 3 blocks, 25% more each time, at most 500 gwei per gas. */
    public static FeePolicy defaults() {
        return new FeePolicy(DEFAULT_REPLACE_AFTER_BLOCKS, DEFAULT_BUMP_PERCENT, DEFAULT_MAX_FEE_PER_GAS_CAP_WEI);
    }

    /** The same policy with another cap. */
    public FeePolicy withMaxFeePerGasCapWei(BigInteger capWei) {
        return new FeePolicy(replaceAfterBlocks, bumpPercent, capWei);
    }

    /** The fees of a first signature, or empty when the cap is below the next block's base fee. */
    public Optional<GasFees> initial(FeeMarket market) {
        if (maxFeePerGasCapWei.compareTo(market.baseFeePerGas()) < 0) {
            return Optional.empty();
        }
        BigInteger maxFee = market.baseFeePerGas().shiftLeft(1).add(market.maxPriorityFeePerGas())
                .min(maxFeePerGasCapWei);
        return Optional.of(new GasFees(maxFee, market.maxPriorityFeePerGas().min(maxFee)));
    }

    /**
     * The fees of a replacement of a transaction signed with {@code current}, or empty when the
     * cap leaves no room for a rise nodes accept (the transaction is as high as settlement goes).
     */
    public Optional<GasFees> replacement(GasFees current, FeeMarket market) {
        BigInteger maxFee = raise(current.maxFeePerGas());
        BigInteger priority = raise(current.maxPriorityFeePerGas());
        Optional<GasFees> fresh = initial(market);
        if (fresh.isPresent()) {
            maxFee = maxFee.max(fresh.get().maxFeePerGas());
            priority = priority.max(fresh.get().maxPriorityFeePerGas());
        }
        maxFee = maxFee.min(maxFeePerGasCapWei);
        priority = priority.min(maxFee);
        if (!acceptedAsReplacement(current.maxFeePerGas(), maxFee)
                || !acceptedAsReplacement(current.maxPriorityFeePerGas(), priority)) {
            return Optional.empty();
        }
        return Optional.of(new GasFees(maxFee, priority));
    }

    /** {@code fee} plus {@code bumpPercent}, rounded up, and at least one wei more. */
    private BigInteger raise(BigInteger fee) {
        BigInteger hundred = BigInteger.valueOf(100);
        BigInteger raised = fee.multiply(BigInteger.valueOf(100L + bumpPercent)).add(hundred.subtract(BigInteger.ONE))
                .divide(hundred);
        return raised.max(fee.add(BigInteger.ONE));
    }

    /** Whether {@code next} is at least 12.5% above {@code previous} (8 * next >= 9 * previous). */
    private static boolean acceptedAsReplacement(BigInteger previous, BigInteger next) {
        return next.shiftLeft(3).compareTo(previous.multiply(BigInteger.valueOf(9))) >= 0;
    }
}
