package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.util.Objects;

/**
 * A listed token's limits in the vault.
 *
 * @param minForcedWithdrawal the smallest forced withdrawal (and settled balance to ask one)
 * @param outflowLimit the most payouts and claims may send per outflow window (one day)
 */
public record TokenLimits(Amount minForcedWithdrawal, Amount outflowLimit) {
    /** The vault's {@code MAX_TOKEN_LIMIT}, 2^96 - 1: as an outflow limit, "unlimited". */
    public static final Amount MAX = Amount.of(BigInteger.ONE.shiftLeft(96).subtract(BigInteger.ONE));

    /** A minimum forced withdrawal of one base unit and no outflow limit: for tests and local chains. */
    public static final TokenLimits UNLIMITED = new TokenLimits(Amount.of(1), MAX);

    public TokenLimits {
        Objects.requireNonNull(minForcedWithdrawal, "minForcedWithdrawal");
        Objects.requireNonNull(outflowLimit, "outflowLimit");
        if (minForcedWithdrawal.isZero() || outflowLimit.isZero() || minForcedWithdrawal.compareTo(MAX) > 0
                || outflowLimit.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("token limits must be in [1, 2^96 - 1]: " + minForcedWithdrawal + ", "
                    + outflowLimit);
        }
    }
}
