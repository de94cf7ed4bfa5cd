package dev.agentescrow.backend.fee;

import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;

/**
 * Ids of the fee feature ({@link DerivedIds}: SHA-256, outside the ledger's reserved namespace): a
 * stakeholder's from (admin, Idempotency-Key), and each distribution payment's ledger transfer from
 * (token, period, stakeholder, fee type) and a random secret of the plan ({@link DerivedIds#newSecret}). The
 * plan stores each payment's id with it, and paying (again, after a crash or by a concurrent caller)
 * reads the stored ids, so the ledger answers EXISTS instead of paying twice. The secret keeps the
 * ids from being computed in advance: clients choose the ids of their own transfers, and a
 * stakeholder that knows its id and the next period's number could otherwise commit a payment of its
 * own under its next payment's id, and the period's payment would be refused for ever.
 */
public final class FeeIds {
    private FeeIds() {
    }

    /** {@code sth_} and 32 hex digits derived from (admin, key). */
    public static String stakeholderId(Address admin, String idempotencyKey) {
        return "sth_" + DerivedIds.of("fee-stakeholder", admin, idempotencyKey, 0).toUuid().toString().replace("-", "");
    }

    /**
     * The ledger transfer paying stakeholder {@code stakeholderId} its part of {@code type} fees in
     * {@code token} of period {@code period} under the plan's {@code secret}. (Periods planned before
     * the secret have ids derived without it; they are kept in {@code fee_payments}, which paying reads.)
     */
    public static TransferId payment(long period, String stakeholderId, Address token, FeeType type, String secret) {
        return DerivedIds.of("fee-payment", token, period + ":" + stakeholderId + ":" + type.name() + ":" + secret, 0);
    }
}
