package dev.agentescrow.backend.workflow;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The one rounding rule of workflow splits, <b>largest remainder</b> (Hamilton): step {@code i} of
 * weights {@code w} gets {@code floor(total * w[i] / W)} ({@code W} the sum of the weights); the
 * {@code r = total - sum(floors)} base units left ({@code r < number of steps}) go one each to the
 * {@code r} steps with the largest remainders {@code total * w[i] mod W}, ties to the earlier step.
 * The shares always add up to exactly {@code total}: no base unit is lost or created.
 */
public final class Splits {
    /** Explicit weights add up to exactly this (basis points of the amount). */
    public static final BigInteger WEIGHT_TOTAL = BigInteger.valueOf(10_000);

    private Splits() {
    }

    /** {@code total} split by {@code weights} (each >= 0, at least one > 0), in order. */
    public static List<BigInteger> largestRemainder(BigInteger total, List<BigInteger> weights) {
        if (total.signum() < 0) {
            throw new IllegalArgumentException("a negative total: " + total);
        }
        BigInteger sum = weights.stream().reduce(BigInteger.ZERO, BigInteger::add);
        if (weights.isEmpty() || sum.signum() <= 0 || weights.stream().anyMatch(w -> w.signum() < 0)) {
            throw new IllegalArgumentException("weights must be non-negative with a positive sum: " + weights);
        }
        List<BigInteger> shares = new ArrayList<>(weights.size());
        List<BigInteger> remainders = new ArrayList<>(weights.size());
        BigInteger given = BigInteger.ZERO;
        for (BigInteger weight : weights) {
            BigInteger[] qr = total.multiply(weight).divideAndRemainder(sum);
            shares.add(qr[0]);
            remainders.add(qr[1]);
            given = given.add(qr[0]);
        }
        int left = total.subtract(given).intValueExact();
        List<Integer> order = IntStream.range(0, weights.size()).boxed()
                .sorted(Comparator.comparing((Integer i) -> remainders.get(i)).reversed()
                        .thenComparing(Comparator.naturalOrder()))
                .toList();
        for (int k = 0; k < left; k++) {
            int i = order.get(k);
            shares.set(i, shares.get(i).add(BigInteger.ONE));
        }
        return shares;
    }

    /** {@code total} split equally between {@code count} steps (largest remainder: the first steps get the extra units). */
    public static List<BigInteger> equal(BigInteger total, int count) {
        return largestRemainder(total, java.util.Collections.nCopies(count, BigInteger.ONE));
    }
}
