package dev.agentescrow.backend.escrow;

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
     * The transfer of one part of one action: {@code part} is {@code payee:<i>}, {@code fee:<i>},
     * {@code protocol_fee:<i>},
     * {@code payer} or {@code fund}; {@code sequence} the escrow's version the action creates.
     */
    public static TransferId transfer(String escrowId, EscrowAction action, String part, int sequence) {
        return transferId(sha256("escrow-transfer", escrowId, action.name(), part, Integer.toString(sequence)));
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
