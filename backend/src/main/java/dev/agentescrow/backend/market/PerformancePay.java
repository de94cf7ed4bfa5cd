package dev.agentescrow.backend.market;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Objects;

/**
 * Performance-based pay (docs/marketplace.md): the payout of a completed request or task is its
 * base price scaled by four multipliers, all in integer basis points (10,000 = 1.0x):
 * <ul>
 * <li><b>quality</b>: the scorer's score 0-200, clamped to 50-200, times 100 (0.5x to 2.0x);</li>
 * <li><b>speed</b>: from the service's own timestamps: finished in at most half the allowed time
 *     1.5x, at most three quarters 1.25x, at most the allowed time 1.0x, later 0.75x;</li>
 * <li><b>accuracy</b>: the scorer's score 0-150, clamped to 50-150, times 100 (0.5x to 1.5x);</li>
 * <li><b>reputation bonus</b>: 0 to 1,000 bps (0 to +10 %), i.e. a multiplier of 1.0x to 1.1x.</li>
 * </ul>
 * <b>The one rounding rule</b>: nothing is rounded until the end. The exact product
 * {@code q * s * a * r} (a number of bps^4) is clamped to {@code maxMultiplierBps * 10^12} and the
 * payout is {@code floor(base * clampedProduct / 10^16)}, then at most the escrowed amount; the
 * refund is {@code escrowed - payout}. So the payout is never above the escrow and
 * {@code payout + refund = escrowed} exactly: no base unit is lost or created. The breakdown's
 * {@code productBps} is the product floored to whole bps, for display only.
 *
 * <p>Pure: no clock, no Spring; the caller passes the elapsed and allowed durations.
 */
public final class PerformancePay {
    public static final int BPS = 10_000;
    public static final int QUALITY_MIN = 50;
    public static final int QUALITY_MAX = 200;
    public static final int ACCURACY_MIN = 50;
    public static final int ACCURACY_MAX = 150;
    public static final int MAX_REPUTATION_BONUS_BPS = 1_000;
    /** The default largest total multiplier (1.5x) and the highest one allowed (4.5x). */
    public static final int DEFAULT_MAX_MULTIPLIER_BPS = 15_000;
    public static final int MAX_MULTIPLIER_BPS = 45_000;
    public static final int SPEED_HALF_BPS = 15_000;
    public static final int SPEED_THREE_QUARTERS_BPS = 12_500;
    public static final int SPEED_ON_TIME_BPS = 10_000;
    public static final int SPEED_LATE_BPS = 7_500;

    private static final BigInteger BPS_POW3 = BigInteger.TEN.pow(12);
    private static final BigInteger BPS_POW4 = BigInteger.TEN.pow(16);

    private PerformancePay() {
    }

    /** What the scorer and the service's timestamps say about one piece of work. */
    public record Scores(int quality, int accuracy, Duration elapsed, Duration allowed, int reputationBonusBps) {
        public Scores {
            Objects.requireNonNull(elapsed, "elapsed");
            Objects.requireNonNull(allowed, "allowed");
            if (allowed.isNegative() || allowed.isZero()) {
                throw new IllegalArgumentException("the allowed time is positive: " + allowed);
            }
            if (reputationBonusBps < 0 || reputationBonusBps > MAX_REPUTATION_BONUS_BPS) {
                throw new IllegalArgumentException("the reputation bonus is 0 to " + MAX_REPUTATION_BONUS_BPS
                        + " bps: " + reputationBonusBps);
            }
        }
    }

    /**
     * Every multiplier, the product, the clamp and the result.
     *
     * @param productBps the unclamped product floored to whole bps (display only; the payout uses the exact product)
     * @param clamped whether the product was above {@code maxMultiplierBps}
     * @param cappedByEscrow whether the escrowed amount, not the multiplier, bounded the payout
     */
    public record Breakdown(BigInteger base, BigInteger escrowed, int qualityBps, int speedBps, int accuracyBps,
                            int reputationBps, long productBps, int maxMultiplierBps, boolean clamped,
                            boolean cappedByEscrow, BigInteger payout, BigInteger refund) {
        /** The arithmetic in one line, as stored and returned. */
        public String arithmetic() {
            return "floor(" + base + " * min(" + qualityBps + "*" + speedBps + "*" + accuracyBps + "*" + reputationBps
                    + ", " + maxMultiplierBps + "*10^12) / 10^16) = " + payout
                    + (cappedByEscrow ? " (capped at the escrow " + escrowed + ")" : "")
                    + "; refund " + escrowed + " - " + payout + " = " + refund;
        }
    }

    /** The quality multiplier: the score clamped to 50-200, times 100 bps. */
    public static int qualityBps(int score) {
        return clamp(score, QUALITY_MIN, QUALITY_MAX) * 100;
    }

    /** The accuracy multiplier: the score clamped to 50-150, times 100 bps. */
    public static int accuracyBps(int score) {
        return clamp(score, ACCURACY_MIN, ACCURACY_MAX) * 100;
    }

    /** The speed multiplier from the elapsed and the allowed time (compared exactly, in nanoseconds). */
    public static int speedBps(Duration elapsed, Duration allowed) {
        BigInteger e = BigInteger.valueOf(Math.max(0, elapsed.toSeconds())).multiply(BigInteger.valueOf(1_000_000_000L))
                .add(BigInteger.valueOf(elapsed.isNegative() ? 0 : elapsed.toNanosPart()));
        BigInteger a = BigInteger.valueOf(allowed.toSeconds()).multiply(BigInteger.valueOf(1_000_000_000L))
                .add(BigInteger.valueOf(allowed.toNanosPart()));
        if (e.shiftLeft(1).compareTo(a) <= 0) {
            return SPEED_HALF_BPS;
        }
        if (e.shiftLeft(2).compareTo(a.multiply(BigInteger.valueOf(3))) <= 0) {
            return SPEED_THREE_QUARTERS_BPS;
        }
        return e.compareTo(a) <= 0 ? SPEED_ON_TIME_BPS : SPEED_LATE_BPS;
    }

    /** The escrow a piece of work with this base price needs: {@code floor(base * maxMultiplierBps / 10,000)}. */
    public static BigInteger escrowFor(BigInteger base, int maxMultiplierBps) {
        checkMultiplier(maxMultiplierBps);
        return base.multiply(BigInteger.valueOf(maxMultiplierBps)).divide(BigInteger.valueOf(BPS));
    }

    /**
     * The payout of work priced {@code base} with {@code escrowed} held for it, under the largest
     * total multiplier {@code maxMultiplierBps} (10,000 to 45,000).
     */
    public static Breakdown payout(BigInteger base, BigInteger escrowed, int maxMultiplierBps, Scores scores) {
        if (base.signum() < 0 || escrowed.signum() < 0) {
            throw new IllegalArgumentException("amounts are non-negative");
        }
        checkMultiplier(maxMultiplierBps);
        int q = qualityBps(scores.quality());
        int s = speedBps(scores.elapsed(), scores.allowed());
        int a = accuracyBps(scores.accuracy());
        int r = BPS + scores.reputationBonusBps();
        BigInteger product = BigInteger.valueOf(q).multiply(BigInteger.valueOf(s)).multiply(BigInteger.valueOf(a))
                .multiply(BigInteger.valueOf(r));
        BigInteger cap = BigInteger.valueOf(maxMultiplierBps).multiply(BPS_POW3);
        boolean clamped = product.compareTo(cap) > 0;
        BigInteger effective = clamped ? cap : product;
        BigInteger payout = base.multiply(effective).divide(BPS_POW4);
        boolean cappedByEscrow = payout.compareTo(escrowed) > 0;
        if (cappedByEscrow) {
            payout = escrowed;
        }
        return new Breakdown(base, escrowed, q, s, a, r, product.divide(BPS_POW3).longValueExact(), maxMultiplierBps,
                clamped, cappedByEscrow, payout, escrowed.subtract(payout));
    }

    private static void checkMultiplier(int maxMultiplierBps) {
        if (maxMultiplierBps < BPS || maxMultiplierBps > MAX_MULTIPLIER_BPS) {
            throw new IllegalArgumentException("the largest multiplier is " + BPS + " to " + MAX_MULTIPLIER_BPS
                    + " bps: " + maxMultiplierBps);
        }
    }

    private static int clamp(int value, int min, int max) {
        return Math.max(min, Math.min(max, value));
    }
}
