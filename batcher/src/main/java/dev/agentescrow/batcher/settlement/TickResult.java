package dev.agentescrow.batcher.settlement;

import java.util.Objects;

/**
 * What one {@link BatchSubmitter#tick()} did.
 *
 * @param outcome what happened
 * @param batchId the batch it concerned, 0 if none
 * @param movements movements of that batch (settled ones for {@link Outcome#CONFIRMED})
 * @param quarantined movements taken out of settlement because the vault refused them
 */
public record TickResult(Outcome outcome, long batchId, int movements, int quarantined) {
    /** What a tick did. */
    public enum Outcome {
        /** Another submitter holds the lock: nothing done. */
        NOT_LEADER,
        /** No batch open and nothing waits. */
        IDLE,
        /** No batch open; movements wait but no batch is due yet. */
        WAITING,
        /** The batch's transaction was broadcast; no receipt yet. */
        SUBMITTED,
        /** The batch's transaction is known to the node but not mined yet. */
        PENDING,
        /** The vault applied the batch. */
        CONFIRMED,
        /**
         * The batch's transaction is mined but not yet at the configured depth: nothing is booked;
         * if a reorg drops it, the same signed bytes are broadcast again.
         */
        CONFIRMING,
        /** The vault refused the batch; its movements were released (and culprits quarantined). */
        REVERTED,
        /** The chain moved while preparing (another sender took the batch id or the nonce): try again next tick. */
        RETRY,
        /**
         * The batch credits accounts the vault has no id for (they never deposited); a transaction
         * registering them is on its way, and the batch is submitted once it is mined.
         */
        REGISTERING,
        /**
         * The vault is paused: the batch stays {@code BUILT}, its movements claimed, and is
         * submitted once the vault is unpaused. Nothing is refused or released meanwhile.
         */
        VAULT_PAUSED,
        /**
         * The vault is frozen for good (an overdue forced withdrawal or the escape hatch): no batch
         * settles any more; the batch stays {@code BUILT} and the freeze is reported.
         */
        VAULT_FROZEN,
        /**
         * The batch's transaction is not mined and settlement will not pay more: its fee is at
         * {@link FeePolicy#maxFeePerGasCapWei()} (or the cap is below the chain's base fee, and
         * nothing is signed). The alarm {@code settlement.fee.capped} is raised; the transaction
         * stays with the node and is still watched.
         */
        FEE_CAPPED
    }

    public TickResult {
        Objects.requireNonNull(outcome, "outcome");
    }

    static TickResult of(Outcome outcome) {
        return new TickResult(outcome, 0, 0, 0);
    }

    static TickResult of(Outcome outcome, SettlementBatchRecord record) {
        return new TickResult(outcome, record.batchId(), record.batch().movementCount(), 0);
    }
}
