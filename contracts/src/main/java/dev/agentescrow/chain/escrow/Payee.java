package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.util.Objects;

/** One payee of an escrow's terms and its share (gross, before the platform fee). */
public record Payee(Address account, Amount share) {
    public Payee {
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(share, "share");
        if (account.equals(Address.ZERO)) {
            throw new IllegalArgumentException("payee must not be the zero address");
        }
        if (share.isZero()) {
            throw new IllegalArgumentException("share must be positive");
        }
    }
}
