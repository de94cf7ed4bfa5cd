package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic ids: an escrow's id from (payer, Idempotency-Key), and every ledger transfer of
 * an escrow from (escrow, action, part, sequence), so that a repeated action (a retry after a
 * lost answer or a crash between the ledger's commit and the service's) writes the same ids and
 * the ledger answers EXISTS instead of paying twice. The ledger's reserved namespace (top 32
 * bits all ones) is avoided.
 *
 * <p><b>Not computable by a party.</b> Clients choose the ids of their own transfers, and every party
 * reads the escrow's id and version: a payout id derived from those alone could be committed first by
 * a party (a 1-unit payment of its own), and the escrow's release, refund, resolution or fallback
 * would be refused for ever. So every part but {@code fund} also derives from the escrow's salt
 * ({@link DerivedIds#newSecret}), a random secret written with its row (never shown). The funding keeps
 * (escrow, "fund"): it is made before anyone but the payer knows the escrow's id, and a create retried
 * after a crash that lost the row (and its salt) must find the funding it made.
 */
public final class EscrowIds {
    private EscrowIds() {
    }

    /** {@code esc_} and 32 hex digits of SHA-256("escrow", payer, key). */
    public static String escrowId(Address payer, String idempotencyKey) {
        return "esc_" + HexFormat.of().formatHex(sha256("escrow", payer.hex(), idempotencyKey), 0, 16);
    }

    /**
     * The task id of a chain escrow on the TaskEscrow: SHA-256("task", escrow id), 32 bytes. The
     * contract stores the payer's escrow under keccak256(abi.encode(payer, taskId)).
     */
    public static byte[] taskId(String escrowId) {
        return sha256("task", escrowId);
    }

    /**
     * The transfer of one part of one action as derived from the escrow's id alone: {@code part} is
     * {@code payee:<i>}, {@code fee:<i>}, {@code protocol_fee:<i>}, {@code payer} or {@code fund};
     * {@code sequence} the escrow's version the action creates. The funding's ({@link #fund}), and
     * every part's of an escrow created before the salt.
     */
    public static TransferId transfer(String escrowId, EscrowAction action, String part, int sequence) {
        return transferId(sha256("escrow-transfer", escrowId, action.name(), part, Integer.toString(sequence)));
    }

    /**
     * The transfer of one part of one action of escrow {@code escrowId} with secret {@code salt}; null
     * {@code salt} (an escrow created before it) as {@link #transfer(String, EscrowAction, String, int)}.
     */
    public static TransferId transfer(String escrowId, String salt, EscrowAction action, String part, int sequence) {
        return salt == null ? transfer(escrowId, action, part, sequence)
                : transferId(sha256("escrow-transfer-salted", escrowId, salt, action.name(), part,
                        Integer.toString(sequence)));
    }

    /**
     * The funding transfer of escrow {@code escrowId}: from its id alone, so a create retried after a
     * crash that lost the row (and its salt) finds it.
     */
    public static TransferId fund(String escrowId) {
        return transfer(escrowId, EscrowAction.CREATED, "fund", 1);
    }

    /** The ledger transfer that moves a fee sweep's deposit into the FEES account. */
    public static TransferId feeSweepTransfer(java.util.UUID sweepId) {
        return transferId(sha256("fee-sweep", sweepId.toString()));
    }

    private static TransferId transferId(byte[] bytes) {
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[i] & 0xFFL);
            low = (low << 8) | (bytes[8 + i] & 0xFFL);
        }
        TransferId id = new TransferId(high, low);
        return id.isReserved() ? new TransferId(high & 0x7FFFFFFFFFFFFFFFL, low) : id;
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
