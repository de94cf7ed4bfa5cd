package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.Token;
import java.time.Instant;
import java.util.List;

/**
 * Everything one group commit writes, in one database transaction.
 *
 * @param touchedAccounts the new totals of every account whose totals changed
 */
public record GroupWrite(
        Instant at,
        List<Token> newTokens,
        List<AccountRow> newAccounts,
        List<TransferRow> transfers,
        List<AccountRow> touchedAccounts,
        List<AuditEntry> audit) {

    public boolean isEmpty() {
        return newTokens.isEmpty() && newAccounts.isEmpty() && transfers.isEmpty() && touchedAccounts.isEmpty()
                && audit.isEmpty();
    }
}
