package dev.agentescrow.backend.workflow;

import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.util.Locale;

/**
 * Deterministic ids ({@link DerivedIds}: SHA-256 of the parts, outside the ledger's reserved
 * namespace): a workflow's from (payer, Idempotency-Key), and each of its ledger transfers from
 * (payer, workflow, part): {@code fund}, {@code agent:<i>}, {@code fee:<i>}, {@code payer:<i>} (a
 * failed step's refund, or the rest of a performance-paid share) or {@code payer:all} (an ATOMIC
 * workflow's refund). Each part moves at most once in a workflow's life, so a retried action (a
 * lost answer, a crash between the ledger's commit and the service's) writes the same ids and the
 * ledger answers EXISTS instead of paying twice.
 */
public final class WorkflowIds {
    private WorkflowIds() {
    }

    /** {@code wf_} and the 32 hex digits of the id derived from ("workflow", payer, key). */
    public static String workflowId(Address payer, String idempotencyKey) {
        return "wf_" + DerivedIds.of("workflow", payer, idempotencyKey, 0).toUuid().toString().replace("-", "");
    }

    /** The transfer of part {@code part} of workflow {@code workflowId} (of {@code payer}). */
    public static TransferId transfer(Address payer, String workflowId, String part) {
        return DerivedIds.of("workflow-transfer:" + part, payer, workflowId, 0);
    }

    /** The part name of a payout. */
    public static String part(WorkflowRules.Payout payout) {
        String kind = payout.kind().name().toLowerCase(Locale.ROOT);
        return kind + ":" + (payout.index() < 0 ? "all" : Integer.toString(payout.index()));
    }
}
