package dev.agentescrow.backend.fee;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One fee booked in the ledger: the transfer into FEES or PROTOCOL_FEES, its type, what paid it
 * (source and subject, e.g. {@code escrow:esc_...}), the payee whose gross payout it was taken
 * from (null for a chain sweep) and that gross.
 */
public record FeeCharge(UUID transferId, FeeType type, FeeSource source, String subject, Address payee,
                        Address token, BigInteger amount, BigInteger gross, long ledgerSeq, Instant bookedAt) {
    public FeeCharge {
        Objects.requireNonNull(transferId, "transferId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(bookedAt, "bookedAt");
        if (amount == null || amount.signum() <= 0) {
            throw new IllegalArgumentException("a fee charge is positive: " + amount);
        }
        if (gross != null && gross.compareTo(amount) < 0) {
            throw new IllegalArgumentException("a fee is at most its gross payout");
        }
    }
}
