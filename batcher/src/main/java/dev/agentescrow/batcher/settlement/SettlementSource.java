package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import java.util.List;

/**
 * The ledger seen by the submitter: committed movements waiting for settlement, and the ledger's
 * side of a batch's outcome. Every method is atomic, and the outcome methods are idempotent, since
 * after a crash the submitter may call them again for the same batch.
 */
public interface SettlementSource {

    /** Up to {@code limit} committed movements not claimed by any batch nor quarantined, in commit order. */
    List<SettlementMovement> unsettled(int limit);

    /** How many movements {@link #unsettled} would return without a limit, and the oldest one's commit time. */
    UnsettledBacklog backlog();

    /**
     * As {@link #backlog()}, for a caller that only needs to know whether at least {@code enough}
     * movements wait (the trigger's N): a store may stop counting there, so the count is exact
     * below {@code enough} and at least {@code enough} otherwise; the oldest commit time is exact.
     */
    default UnsettledBacklog backlog(int enough) {
        return backlog();
    }

    /**
     * What the submitter reads before it builds a batch, in one read: up to {@code limit}
     * movements as {@link #unsettled} returns them, and the backlog they start (its count is exact
     * up to {@code limit}, at least {@code limit} otherwise; the oldest commit time is exact). A
     * backlog below the trigger's N is read whole, one above it is due anyway, so the trigger's
     * check and the batch need one scan, not two.
     */
    default Waiting waiting(int limit) {
        return new Waiting(unsettled(limit), backlog());
    }

    /** Movements waiting, in commit order, and the backlog they start. */
    record Waiting(List<SettlementMovement> movements, UnsettledBacklog backlog) {
        public Waiting {
            movements = List.copyOf(movements);
            java.util.Objects.requireNonNull(backlog, "backlog");
        }
    }

    /** The open batch {@code batchId} was refused: its movements become unsettled again, in their commit order. */
    void release(long batchId);

    /**
     * The batch {@code batchId} was applied on chain: its movements are settled for good; its
     * withdrawals are paid out (the ledger books them from pending payouts to custody).
     */
    void settled(long batchId);

    /**
     * Takes a movement out of settlement: the vault refused a batch because of it (e.g. it spends
     * more than the account's settled balance, so the off-chain ledger and the chain disagree). It is
     * never returned by {@link #unsettled} again; the ledger must surface it for a person to resolve
     * (a compensating transfer, or a fix of the ledger), never drop it silently.
     */
    void quarantine(TransferId transferId, String reason);
}
