package dev.agentescrow.chain;

import java.util.Objects;

/**
 * A transaction the chain has mined, successful or not (a mined transaction whose call reverted
 * still consumed its nonce and gas).
 *
 * @param txHash the transaction
 * @param status whether its call succeeded
 * @param blockNumber the block it was mined in
 * @param gasUsed gas it consumed
 */
public record MinedReceipt(TxHash txHash, Status status, long blockNumber, long gasUsed) {
    /** Outcome of a mined transaction's call. */
    public enum Status {
        /** The call succeeded and its effects are on chain. */
        SUCCEEDED,
        /** The call reverted: no effects beyond the nonce and the gas paid. */
        FAILED
    }

    public MinedReceipt {
        Objects.requireNonNull(txHash, "txHash");
        Objects.requireNonNull(status, "status");
    }

    public boolean succeeded() {
        return status == Status.SUCCEEDED;
    }

    /** The gateway's {@link Receipt} view of a successful transaction. */
    public Receipt toReceipt() {
        return new Receipt(txHash, blockNumber, gasUsed);
    }
}
