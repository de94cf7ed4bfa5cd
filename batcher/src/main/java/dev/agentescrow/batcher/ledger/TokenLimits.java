package dev.agentescrow.batcher.ledger;

import java.math.BigInteger;
import java.util.Objects;

/**
 * What the ledger accepts from clients for one token: the largest amount of one transfer and the
 * largest balance a user account may reach. Neither may exceed {@link #VAULT_CAP}, the largest
 * balance the SettlementVault stores (2^85 - 1), so that every accepted transfer can settle.
 */
public record TokenLimits(BigInteger maxTransfer, BigInteger maxBalance) {
    /** The SettlementVault's cap on one balance: 2^85 - 1. */
    public static final BigInteger VAULT_CAP = BigInteger.ONE.shiftLeft(85).subtract(BigInteger.ONE);

    /** Both limits at the vault's cap. */
    public static final TokenLimits VAULT = new TokenLimits(VAULT_CAP, VAULT_CAP);

    public TokenLimits {
        Objects.requireNonNull(maxTransfer, "maxTransfer");
        Objects.requireNonNull(maxBalance, "maxBalance");
        if (maxTransfer.signum() <= 0 || maxTransfer.compareTo(VAULT_CAP) > 0) {
            throw new IllegalArgumentException("maxTransfer must be in [1, 2^85 - 1]: " + maxTransfer);
        }
        if (maxBalance.signum() <= 0 || maxBalance.compareTo(VAULT_CAP) > 0) {
            throw new IllegalArgumentException("maxBalance must be in [1, 2^85 - 1]: " + maxBalance);
        }
    }
}
