package dev.agentescrow.batcher.ledger.db;

import java.time.Instant;

/** One row of {@code audit_log}: who did what to which subject, when and why. */
public record AuditEntry(Instant occurredAt, String actor, String action, String subject, String reason) {
}
