package dev.agentescrow.batcher.ledger;

import java.time.Instant;
import java.util.Objects;

/**
 * The outcome of one submitted transfer with where it sits in the ledger: for a committed transfer
 * ({@link TransferResult#OK}, or {@link TransferResult#EXISTS} for the first commit of the same id)
 * its sequence number and the time of the group commit that wrote it. A reader on any instance
 * that asks for "at least {@link #seq()}" (see {@code read.LedgerReads}) sees this transfer.
 *
 * @param seq         the transfer's commit position (gap-free, from 1); 0 when not committed
 * @param committedAt the transfer's {@code created_at} (its group's time); null when not committed
 */
public record TransferReceipt(TransferId id, TransferResult result, long seq, Instant committedAt) {
    public TransferReceipt {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(result, "result");
        if (result.committed() != (seq > 0 && committedAt != null)) {
            throw new IllegalArgumentException("a committed transfer has a seq and a time, any other result neither");
        }
    }

    /** The receipt of a transfer that was not written. */
    public static TransferReceipt rejected(TransferId id, TransferResult result) {
        return new TransferReceipt(id, result, 0, null);
    }

    public boolean committed() {
        return result.committed();
    }
}
