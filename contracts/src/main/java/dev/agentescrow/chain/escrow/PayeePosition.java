package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;

/**
 * A payee as the contract holds it: its share, how much of it has been released so far (gross,
 * including the fee taken from it), and whether it accepted the escrow's terms.
 */
public record PayeePosition(Address account, Amount share, Amount released, boolean accepted) {
    /** What may still be released to this payee. */
    public Amount remaining() {
        return share.minus(released);
    }
}
