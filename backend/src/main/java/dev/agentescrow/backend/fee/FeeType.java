package dev.agentescrow.backend.fee;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.chain.Address;

/** The two fees taken from a ledger payout, each booked into a ledger account of its own. */
public enum FeeType {
    /** The platform's fee: the ledger's FEES account (also where chain escrows' swept fees land). */
    PLATFORM,
    /** The protocol's fee: the ledger's PROTOCOL_FEES account. */
    PROTOCOL;

    /** The ledger account this fee of {@code token} is booked into. */
    public AccountKey account(Address token) {
        return this == PLATFORM ? AccountKey.fees(token) : AccountKey.protocolFees(token);
    }
}
