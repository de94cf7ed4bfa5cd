package dev.agentescrow.backend.fee;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The distribution's rounding rule (docs/fees.md): of a pool, each stakeholder receives
 * {@code floor(pool * shares / totalShares)}; what the floors leave (less than the number of
 * stakeholders, in base units) stays in the fee account and is carried into the next period's pool.
 * No base unit is lost or created: the parts and the remainder add up to the pool.
 */
public final class FeeShares {
    private FeeShares() {
    }

    /** The parts and the remainder: {@code sum(parts) + remainder == pool}. */
    public record Division(List<BigInteger> parts, BigInteger remainder) {
    }

    /** Divides {@code pool} (>= 0) by {@code shares} (each >= 1), in the given order. */
    public static Division divide(BigInteger pool, List<Long> shares) {
        if (pool.signum() < 0 || shares.isEmpty() || shares.stream().anyMatch(s -> s < 1)) {
            throw new IllegalArgumentException("a non-negative pool among positive shares");
        }
        BigInteger total = BigInteger.valueOf(shares.stream().mapToLong(Long::longValue).sum());
        List<BigInteger> parts = new ArrayList<>(shares.size());
        BigInteger given = BigInteger.ZERO;
        for (long share : shares) {
            BigInteger part = pool.multiply(BigInteger.valueOf(share)).divide(total);
            parts.add(part);
            given = given.add(part);
        }
        return new Division(List.copyOf(parts), pool.subtract(given));
    }
}
