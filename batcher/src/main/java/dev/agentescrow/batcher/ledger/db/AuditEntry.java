package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;

/**
 * One row of {@code audit_log}: who did what to which subject, when and why; for a movement
 * (a service command's transfer) also the transfer, its token and amount, else those are null.
 */
public record AuditEntry(Instant occurredAt, String actor, String action, String subject, String reason,
                         TransferId transferId, Address token, BigInteger amount) {

    /** An entry that records no movement. */
    public AuditEntry(Instant occurredAt, String actor, String action, String subject, String reason) {
        this(occurredAt, actor, action, subject, reason, null, null, null);
    }
}
