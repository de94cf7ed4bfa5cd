package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.Token;
import java.time.Instant;
import java.util.List;

/**
 * Everything one group commit writes, in one database transaction.
 *
 * @param checkpointAccounts when this group writes a checkpoint: the totals of every account
 *                           touched since the last one; otherwise empty
 * @param checkpointSeq      the seq the checkpoint covers (the group's last), or null for none
 */
public record GroupWrite(
        Instant at,
        List<Token> newTokens,
        List<AccountRow> newAccounts,
        List<TransferRow> transfers,
        List<AccountRow> checkpointAccounts,
        Long checkpointSeq,
        List<AuditEntry> audit) {

    public boolean isEmpty() {
        return newTokens.isEmpty() && newAccounts.isEmpty() && transfers.isEmpty() && checkpointSeq == null
                && audit.isEmpty();
    }
}
