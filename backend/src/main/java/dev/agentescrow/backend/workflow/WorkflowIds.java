package dev.agentescrow.backend.workflow;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic ids: a workflow's from (payer, Idempotency-Key), and each of its ledger transfers
 * from (workflow, part): {@code fund}, {@code agent:<i>}, {@code fee:<i>}, {@code payer:<i>} (a
 * failed step's refund) or {@code payer:all} (an ATOMIC workflow's refund). Each part moves at most
 * once in a workflow's life, so a retried action (a lost answer, a crash between the ledger's
 * commit and the service's) writes the same ids and the ledger answers EXISTS instead of paying
 * twice. The ledger's reserved namespace (top 32 bits all ones) is avoided.
 */
public final class WorkflowIds {
    private WorkflowIds() {
    }

    /** {@code wf_} and 32 hex digits of SHA-256("workflow", payer, key). */
    public static String workflowId(Address payer, String idempotencyKey) {
        return "wf_" + HexFormat.of().formatHex(sha256("workflow", payer.hex(), idempotencyKey), 0, 16);
    }

    public static TransferId transfer(String workflowId, String part) {
        byte[] bytes = sha256("workflow-transfer", workflowId, part);
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[i] & 0xFFL);
            low = (low << 8) | (bytes[8 + i] & 0xFFL);
        }
        TransferId id = new TransferId(high, low);
        return id.isReserved() ? new TransferId(high & 0x7FFFFFFFFFFFFFFFL, low) : id;
    }

    /** The part name of a payout. */
    public static String part(WorkflowRules.Payout payout) {
        String kind = payout.kind().name().toLowerCase(java.util.Locale.ROOT);
        return kind + ":" + (payout.index() < 0 ? "all" : Integer.toString(payout.index()));
    }

    private static byte[] sha256(String... parts) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update("agentescrow".getBytes(StandardCharsets.UTF_8));
            for (String part : parts) {
                digest.update((byte) 0);
                digest.update(part.getBytes(StandardCharsets.UTF_8));
            }
            return digest.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
