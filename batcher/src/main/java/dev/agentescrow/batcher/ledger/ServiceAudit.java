package dev.agentescrow.batcher.ledger;

import java.util.Objects;

/**
 * What the audit log records for a rule-driven movement (see {@code command.ServiceCommands}):
 * the rule that moved the money, the actor that applied it and the object it concerns. The
 * writer adds one {@code audit_log} row per transfer of the submission that commits now, in the
 * same database transaction; a replay ({@link TransferResult#EXISTS}) adds none.
 *
 * @param rule    the rule (e.g. {@code EVALUATOR_RELEASE}), at most 32 characters
 * @param actor   who applied it (an evaluator's or arbiter's address, {@code scheduler}), at most 64
 * @param subject the object (an escrow or task id), at most 128
 * @param reason  free text, at most 256
 */
public record ServiceAudit(String rule, String actor, String subject, String reason) {
    public ServiceAudit {
        require(rule, "rule", 32);
        require(actor, "actor", 64);
        require(subject, "subject", 128);
        require(reason, "reason", 256);
    }

    private static void require(String value, String name, int max) {
        Objects.requireNonNull(value, name);
        if (value.isBlank() || value.length() > max || !TransferRequest.isValidReference(value)) {
            throw new IllegalArgumentException(name + " must be 1-" + max + " printable characters: " + value);
        }
    }
}
