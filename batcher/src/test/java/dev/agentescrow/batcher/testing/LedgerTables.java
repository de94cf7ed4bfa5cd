package dev.agentescrow.batcher.testing;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;

/** Reads of the ledger's tables that tests compare with the chain. */
public final class LedgerTables {
    private LedgerTables() {
    }

    /** Every user account's posted balance of {@code token}, from the {@code account_balances} view. */
    public static Map<Address, BigInteger> userBalances(DataSource dataSource, Address token) throws SQLException {
        Map<Address, BigInteger> out = new HashMap<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("""
                     SELECT owner, credits_posted - debits_posted FROM account_balances
                     WHERE kind = 'USER' AND token = ?""")) {
            s.setString(1, token.hex());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.put(Address.of(rs.getString(1)), rs.getBigDecimal(2).toBigIntegerExact());
                }
            }
        }
        return out;
    }
}
