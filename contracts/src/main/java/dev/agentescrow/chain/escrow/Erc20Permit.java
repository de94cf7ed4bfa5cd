package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;

/** An EIP-2612 permit signature for {@code value} valid until {@code deadline}. */
public record Erc20Permit(Amount value, Instant deadline, int v, Bytes32 r, Bytes32 s) {
    public Erc20Permit {
        if (v != 27 && v != 28) {
            throw new IllegalArgumentException("v must be 27 or 28: " + v);
        }
    }
}
