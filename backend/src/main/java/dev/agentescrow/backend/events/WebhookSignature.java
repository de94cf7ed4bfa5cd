package dev.agentescrow.backend.events;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The webhook signature, Stripe's scheme: header {@value #HEADER} = {@code t=<unix seconds>,v1=<hex>}
 * where {@code <hex>} is HMAC-SHA256, keyed with the endpoint's secret (the whole {@code whsec_...}
 * string as UTF-8), of {@code <t> + "." + <body bytes>}. A receiver recomputes it over the raw body,
 * compares in constant time, and refuses a {@code t} too far from its clock (replays).
 */
public final class WebhookSignature {
    public static final String HEADER = "AgentEscrow-Signature";

    private WebhookSignature() {
    }

    /** The header value for {@code body} sent at {@code timestampSeconds}. */
    public static String header(String secret, long timestampSeconds, byte[] body) {
        return "t=" + timestampSeconds + ",v1=" + HexFormat.of().formatHex(hmac(secret, timestampSeconds, body));
    }

    /** Whether {@code header} carries a valid v1 signature of {@code body} made at most {@code toleranceSeconds} from {@code nowSeconds}. */
    public static boolean verify(String secret, String header, byte[] body, long nowSeconds, long toleranceSeconds) {
        if (header == null) {
            return false;
        }
        Long timestamp = null;
        java.util.List<String> signatures = new java.util.ArrayList<>();
        for (String part : header.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length != 2) {
                return false;
            }
            if (kv[0].equals("t") && kv[1].matches("[0-9]{1,12}")) {
                timestamp = Long.parseLong(kv[1]);
            } else if (kv[0].equals("v1")) {
                signatures.add(kv[1]);
            }
        }
        if (timestamp == null || Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
            return false;
        }
        byte[] expected = HexFormat.of().formatHex(hmac(secret, timestamp, body)).getBytes(StandardCharsets.US_ASCII);
        for (String signature : signatures) {
            if (MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
                return true;
            }
        }
        return false;
    }

    static byte[] hmac(String secret, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((timestampSeconds + ".").getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
        }
    }
}
