package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;

/**
 * A payee as the contract holds it: its share and how much of it has been released so far
 * (gross, including the fee taken from it).
 */
public record PayeePosition(Address account, Amount share, Amount released) {
    /** What may still be released to this payee. */
    public Amount remaining() {
        return share.minus(released);
    }
}
