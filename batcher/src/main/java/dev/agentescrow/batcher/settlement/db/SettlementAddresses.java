package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.chain.Address;
import java.util.Objects;

/**
 * The on-chain accounts that stand for the ledger's {@code FEES} (and {@code PROTOCOL_FEES}) and {@code ESCROW} system accounts
 * in settlement: a transfer touching one of them settles as a transfer from or to this address.
 */
public record SettlementAddresses(Address feeCollector, Address escrowHolder) {
    public SettlementAddresses {
        requireUsable(feeCollector, "feeCollector");
        requireUsable(escrowHolder, "escrowHolder");
    }

    private static void requireUsable(Address address, String name) {
        Objects.requireNonNull(address, name);
        if (address.equals(Address.ZERO)) {
            throw new IllegalArgumentException(name + " must not be the zero address");
        }
    }
}
