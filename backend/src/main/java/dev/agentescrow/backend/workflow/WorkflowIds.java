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
 *
 * <p><b>Not computable by a party.</b> Clients choose the ids of their own transfers, and every party
 * reads the workflow's id and payer: a payout id derived from those alone could be committed first
 * by a party (a 1-unit payment of its own), and the workflow's payout or refund would be refused for
 * ever. So every part but {@code fund} also derives from the workflow's salt ({@link DerivedIds#newSecret}), a
 * random secret written with its row (never shown). The funding keeps (payer, workflow, "fund"): it
 * is made before anyone can read the workflow, and a create retried after a crash that lost the row
 * (and its salt) must find the funding it made.
 */
public final class WorkflowIds {
    private WorkflowIds() {
    }

    /** {@code wf_} and the 32 hex digits of the id derived from ("workflow", payer, key). */
    public static String workflowId(Address payer, String idempotencyKey) {
        return "wf_" + DerivedIds.of("workflow", payer, idempotencyKey, 0).toUuid().toString().replace("-", "");
    }

    /**
     * The transfer of part {@code part} of workflow {@code workflowId} (of {@code payer}) as derived
     * from those alone: the funding's, and every part's of a workflow created before the salt.
     */
    public static TransferId transfer(Address payer, String workflowId, String part) {
        return DerivedIds.of("workflow-transfer:" + part, payer, workflowId, 0);
    }

    /**
     * The transfer of part {@code part} of workflow {@code workflowId} (of {@code payer}) with secret
     * {@code salt}; null {@code salt} (a workflow created before it) as {@link #transfer(Address, String, String)}.
     */
    public static TransferId transfer(Address payer, String workflowId, String salt, String part) {
        return salt == null ? transfer(payer, workflowId, part)
                : DerivedIds.of("workflow-transfer:" + part, payer, workflowId + ":" + salt, 0);
    }

    /** The part name of a payout. */
    public static String part(WorkflowRules.Payout payout) {
        String kind = payout.kind().name().toLowerCase(Locale.ROOT);
        return kind + ":" + (payout.index() < 0 ? "all" : Integer.toString(payout.index()));
    }
}
