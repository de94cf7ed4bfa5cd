package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.support.Addresses;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Account keys by account id, for the reads of one database. An account row's identity (kind,
 * owner, token, escrow) is written once with the row and never changes (the ledger only moves its
 * totals, and never deletes an account), so a key read once stays right for good: a history page
 * carries the two account ids of each transfer and its keys come from here, loaded in one
 * statement for the ids not known yet. Before, every page joined {@code accounts} twice per row and
 * sent eight text columns per row, whose decoding and parsing was the larger part of a history
 * read's CPU in the open-loop benchmark (docs/ledger.md). Bounded: cleared whole when it reaches
 * {@value #MAX} entries.
 */
final class AccountKeys {
    static final int MAX = 65_536;
    private static final String LOAD = "SELECT id, kind, owner, token, escrow_id FROM accounts WHERE id = ANY(?)";

    private final ConcurrentHashMap<Long, AccountKey> keys = new ConcurrentHashMap<>();

    /**
     * The keys of {@code ids}: those cached, and the others loaded in one statement on {@code c}.
     *
     * @throws SQLException also when an id names no account (a transfer's accounts always exist)
     */
    Map<Long, AccountKey> keysOf(Connection c, Collection<Long> ids) throws SQLException {
        Map<Long, AccountKey> found = new HashMap<>();
        Set<Long> missing = new LinkedHashSet<>();
        for (Long id : ids) {
            AccountKey key = keys.get(id);
            if (key != null) {
                found.put(id, key);
            } else {
                missing.add(id);
            }
        }
        if (missing.isEmpty()) {
            return found;
        }
        try (PreparedStatement s = c.prepareStatement(LOAD)) {
            s.setArray(1, c.createArrayOf("bigint", missing.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    AccountKey key = key(rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5));
                    found.put(id, key);
                    if (keys.size() >= MAX) {
                        keys.clear();
                    }
                    keys.put(id, key);
                }
            }
        }
        for (Long id : missing) {
            if (!found.containsKey(id)) {
                throw new SQLException("account " + id + " named by a transfer is not in the ledger");
            }
        }
        return found;
    }

    /** An account key from its row's kind, owner, token and escrow id. */
    static AccountKey key(String kind, String owner, String tokenHex, String escrowId) {
        AccountKind accountKind = AccountKind.valueOf(kind);
        return AccountKey.of(accountKind, accountKind == AccountKind.USER ? Addresses.of(owner) : null,
                Addresses.of(tokenHex), escrowId);
    }
}
