package dev.agentescrow.backend.market;

import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.web3j.crypto.Hash;

/**
 * Deterministic ids: a service's from (provider, Idempotency-Key), a request's from (consumer,
 * Idempotency-Key), a task's from (poster, Idempotency-Key), so a retried POST finds what the first
 * made; a request's (a task's) escrow is created under the key {@code market:<request or task id>},
 * so its id is fixed by the request's (the task's).
 */
public final class MarketIds {
    private MarketIds() {
    }

    public static String serviceId(Address provider, String idempotencyKey) {
        return "svc_" + hex(sha256("market-service", provider.hex(), idempotencyKey), 16);
    }

    public static String requestId(Address consumer, String idempotencyKey) {
        return "req_" + hex(sha256("market-request", consumer.hex(), idempotencyKey), 16);
    }

    public static String taskId(Address poster, String idempotencyKey) {
        return "task_" + hex(sha256("market-task", poster.hex(), idempotencyKey), 16);
    }

    /** The escrow's terms hash of an allocated task: SHA-256 of the task, the winner, the price and the multiplier. */
    public static String taskTermsHash(String taskId, Address winner, String price, int maxMultiplierBps) {
        return "0x" + hex(sha256("market-task-terms", taskId, winner.hex(), price, Integer.toString(maxMultiplierBps)),
                32);
    }

    /** The Idempotency-Key under which a request's escrow is created (its id derives from it and the consumer). */
    public static String escrowKey(String requestId) {
        return "market:" + requestId;
    }

    /**
     * The Idempotency-Key under which a task's escrow is created at its allocation: with the task's
     * secret (drawn when it was posted, never shown), so that no bidder can compute the escrow's id
     * and take its funding's ledger id first; a task posted before the secret ({@code null}) keeps
     * {@link #escrowKey}. A request's escrow needs none: it is created in the request's own
     * transaction, before anyone could read its id.
     */
    public static String taskEscrowKey(String taskId, String secret) {
        return secret == null ? escrowKey(taskId) : escrowKey(taskId) + ":" + secret;
    }

    /** The escrow's terms hash: SHA-256 of the request's terms (service, units, input, base, multiplier). */
    public static String termsHash(String requestId, String serviceId, long units, String input, String base,
                                   int maxMultiplierBps) {
        return "0x" + hex(sha256("market-terms", requestId, serviceId, Long.toString(units), input == null ? "" : input,
                base, Integer.toString(maxMultiplierBps)), 32);
    }

    private static String hex(byte[] bytes, int length) {
        return HexFormat.of().formatHex(bytes, 0, length);
    }

    /** SHA-256 of "agentescrow" and the parts, each after a zero byte (no part contains one). */
    private static byte[] sha256(String... parts) {
        return Hash.sha256(("agentescrow\0" + String.join("\0", parts)).getBytes(StandardCharsets.UTF_8));
    }
}
