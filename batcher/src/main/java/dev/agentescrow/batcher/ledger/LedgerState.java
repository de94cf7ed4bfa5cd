package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.ledger.db.LoadedAccount;
import dev.agentescrow.batcher.ledger.db.LedgerStore;
import dev.agentescrow.batcher.ledger.db.TransferRow;
import dev.agentescrow.chain.Address;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything the writer holds in memory: tokens, every account's totals, the open pending
 * transfers, the next account id and transfer sequence number. It is loaded from the database
 * at start and after any failed commit, so it never holds anything that is not committed once a
 * group is over.
 */
final class LedgerState {
    final Map<Address, Token> tokens = new HashMap<>();
    final Map<AccountKey, Account> accounts = new HashMap<>();
    final Map<Long, Account> accountsById = new HashMap<>();
    final Map<TransferId, OpenPending> openPendings = new HashMap<>();
    final TreeSet<OpenPending> pendingsByExpiry = new TreeSet<>(OpenPending.BY_EXPIRY);
    /** Accounts whose totals changed since the last checkpoint (their row in the table is behind). */
    final Set<Account> sinceCheckpoint = new LinkedHashSet<>();
    int groupsSinceCheckpoint;
    long nextAccountId;
    long nextSeq;

    static LedgerState load(LedgerStore store, Connection c) throws SQLException {
        LedgerState state = new LedgerState();
        for (Token token : store.loadTokens(c)) {
            state.tokens.put(token.address(), token);
        }
        long maxId = 0;
        for (LoadedAccount loaded : store.loadAccounts(c)) {
            Account account = new Account(loaded.row());
            state.addAccount(account);
            if (loaded.afterCheckpoint()) {
                state.sinceCheckpoint.add(account);
            }
            maxId = Math.max(maxId, account.id);
        }
        state.nextAccountId = maxId + 1;
        for (TransferRow row : store.loadOpenPendings(c)) {
            state.addPending(new OpenPending(row.id(), state.accountsById.get(row.debitAccountId()),
                    state.accountsById.get(row.creditAccountId()), row.amount(), row.expiresAt()));
        }
        state.nextSeq = store.maxSeq(c) + 1;
        return state;
    }

    void addAccount(Account account) {
        accounts.put(account.key, account);
        accountsById.put(account.id, account);
    }

    void removeAccount(Account account) {
        accounts.remove(account.key);
        accountsById.remove(account.id);
    }

    void addPending(OpenPending pending) {
        openPendings.put(pending.id(), pending);
        pendingsByExpiry.add(pending);
    }

    void removePending(OpenPending pending) {
        openPendings.remove(pending.id());
        pendingsByExpiry.remove(pending);
    }
}
