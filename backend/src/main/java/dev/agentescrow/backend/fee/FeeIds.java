package dev.agentescrow.backend.fee;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Deterministic ids of the fee feature: a stakeholder's from (admin, Idempotency-Key), and each
 * distribution payment's ledger transfer from (period, stakeholder, token, fee type), so that a
 * distribution paid again after a crash or by a concurrent caller writes the same ids and the
 * ledger answers EXISTS instead of paying twice. The ledger's reserved namespace is avoided.
 */
public final class FeeIds {
    private FeeIds() {
    }

    /** {@code sth_} and 32 hex digits of SHA-256("stakeholder", admin, key). */
    public static String stakeholderId(String admin, String idempotencyKey) {
        return "sth_" + HexFormat.of().formatHex(sha256("stakeholder", admin, idempotencyKey), 0, 16);
    }

    /** The ledger transfer paying stakeholder {@code stakeholderId} its part of {@code type} fees in {@code token} of period {@code period}. */
    public static TransferId payment(long period, String stakeholderId, Address token, FeeType type) {
        byte[] bytes = sha256("fee-payment", Long.toString(period), stakeholderId, token.hex(), type.name());
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
            throw new IllegalStateException(e);
        }
    }
}
