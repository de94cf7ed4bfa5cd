package dev.agentescrow.backend.fee;

import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;

/**
 * Deterministic ids of the fee feature ({@link DerivedIds}: SHA-256, outside the ledger's reserved
 * namespace): a stakeholder's from (admin, Idempotency-Key), and each distribution payment's ledger
 * transfer from (token, period, stakeholder, fee type), so that a distribution paid again after a
 * crash or by a concurrent caller writes the same ids and the ledger answers EXISTS instead of
 * paying twice.
 */
public final class FeeIds {
    private FeeIds() {
    }

    /** {@code sth_} and 32 hex digits derived from (admin, key). */
    public static String stakeholderId(Address admin, String idempotencyKey) {
        return "sth_" + DerivedIds.of("fee-stakeholder", admin, idempotencyKey, 0).toUuid().toString().replace("-", "");
    }

    /** The ledger transfer paying stakeholder {@code stakeholderId} its part of {@code type} fees in {@code token} of period {@code period}. */
    public static TransferId payment(long period, String stakeholderId, Address token, FeeType type) {
        return DerivedIds.of("fee-payment", token, period + ":" + stakeholderId + ":" + type.name(), 0);
    }
}
