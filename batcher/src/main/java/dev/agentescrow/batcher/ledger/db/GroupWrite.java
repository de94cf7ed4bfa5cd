package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import java.time.Instant;
import java.util.List;

/**
 * Everything one group commit writes, in one database transaction.
 *
 * @param newWithdrawals     withdrawals booked by this group (rows of {@code pending_withdrawals})
 * @param paidWithdrawals    withdrawals whose payout this group books (rows to mark paid)
 * @param totals             what this group adds to {@code ledger_totals}
 * @param newHolds           pending transfers booked by this group (rows of {@code open_holds})
 * @param resolvedHolds      holds this group posts, voids or expires (rows to mark resolved)
 */
public record GroupWrite(
        Instant at,
        List<Token> newTokens,
        List<AccountRow> newAccounts,
        List<TransferRow> transfers,
        List<AuditEntry> audit,
        List<WithdrawalRow> newWithdrawals,
        List<Closed> paidWithdrawals,
        List<TotalsDelta> totals,
        List<TransferRow> newHolds,
        List<Closed> resolvedHolds) {

    /**
     * A withdrawal paid or a hold resolved: its row (by the withdrawal's seq, or the hold's id) and
     * the seq of the transfer that closed it. Such rows stay visible to reads at a position before
     * {@code closedBy} and are deleted with the next checkpoint that covers it.
     */
    public record Closed(long withdrawalSeq, TransferId pendingId, long closedBy) {
    }

    public boolean isEmpty() {
        return newTokens.isEmpty() && newAccounts.isEmpty() && transfers.isEmpty()
                && audit.isEmpty();
    }
}
