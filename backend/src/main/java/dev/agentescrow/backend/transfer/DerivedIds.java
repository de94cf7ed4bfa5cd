package dev.agentescrow.backend.transfer;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Ledger transfer ids derived from (kind, principal, Idempotency-Key, index): the first 16 bytes of
 * their SHA-256, so that a replay of the same request writes the same id (and costs no second
 * write). The namespace the ledger reserves for itself (top 32 bits all ones) is avoided.
 */
public final class DerivedIds {
    private static final SecureRandom RANDOM = new SecureRandom();

    private DerivedIds() {
    }

    /**
     * A secret to derive ids from besides the request's parts (32 random hex digits), where every
     * part of an id is known to a client that could commit a transfer of its own under it first.
     */
    public static String newSecret() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public static TransferId of(String kind, Address principal, String idempotencyKey, int index) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String part : new String[] {"agentescrow", kind, principal.hex(), idempotencyKey, Integer.toString(index)}) {
                digest.update(part.getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
            }
            byte[] bytes = Arrays.copyOf(digest.digest(), 16);
            long high = 0;
            long low = 0;
            for (int i = 0; i < 8; i++) {
                high = (high << 8) | (bytes[i] & 0xFFL);
                low = (low << 8) | (bytes[8 + i] & 0xFFL);
            }
            TransferId id = new TransferId(high, low);
            return id.isReserved() ? new TransferId(high & 0x7FFFFFFFFFFFFFFFL, low) : id;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
