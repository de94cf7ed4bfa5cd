package dev.agentescrow.backend.fee;

import java.math.BigInteger;

/**
 * The platform fee and the protocol fee in basis points of a gross payout (each at most
 * {@link #MAX_BPS}). <b>Rounding rule</b> (docs/fees.md): each fee is floored on its own,
 * {@code floor(gross * bps / 10,000)}, and the payee receives the rest, so the remainders of both
 * floors stay with the payee and {@code net + platform + protocol == gross} exactly.
 */
public record FeeRates(int platformBps, int protocolBps) {
    public static final int BPS = 10_000;
    /** Each fee is at most 10 %. */
    public static final int MAX_BPS = 1_000;

    public FeeRates {
        if (platformBps < 0 || platformBps > MAX_BPS || protocolBps < 0 || protocolBps > MAX_BPS) {
            throw new IllegalArgumentException("each fee is in [0, " + MAX_BPS + "] bps: " + platformBps + ", "
                    + protocolBps);
        }
    }

    /** Both fees together: what a payer's maximum fee ({@code maxFeeBps}) must cover. */
    public int totalBps() {
        return platformBps + protocolBps;
    }

    /** Splits {@code gross} (>= 0) under the rounding rule. */
    public FeeSplit split(BigInteger gross) {
        return new FeeSplit(gross, floor(gross, platformBps), floor(gross, protocolBps));
    }

    /** {@code floor(amount * bps / 10,000)}. */
    public static BigInteger floor(BigInteger amount, int bps) {
        return amount.multiply(BigInteger.valueOf(bps)).divide(BigInteger.valueOf(BPS));
    }
}
