package dev.agentescrow.batcher.reconcile.db;

import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.reconcile.ExpectedBalances;
import dev.agentescrow.batcher.reconcile.Mismatch;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * What the vault must hold per address, computed from the ledger's and settlement's tables: every
 * deposit the indexer credited (CUSTODY to a user account: a posted hold, or a single transfer), minus
 * every on-chain withdrawal booked straight against CUSTODY (a user account to CUSTODY, e.g. a posted
 * escape withdrawal), plus the
 * movements of confirmed batches (a transfer moves its amount from its sender to its receiver; a
 * withdrawal takes it from its account and out of the vault). Movements not yet in a confirmed
 * batch are not on chain yet and do not count. Holds not posted yet (a deposit between its hold
 * confirmations and its depth) do not count here either: the indexer's
 * {@code VaultIndexer.unbookedCustody} adds every custody event that is not final in the ledger,
 * read from the chain, so a hold whose block left the chain is never expected.
 */
public final class LedgerExpectedBalances implements ExpectedBalances {
    private static final String SQL = """
            SELECT address, SUM(delta) FROM (
                SELECT a.owner AS address, t.amount AS delta
                  FROM transfers t
                  JOIN accounts c ON c.id = t.debit_account_id AND c.kind = 'CUSTODY'
                  JOIN accounts a ON a.id = t.credit_account_id AND a.kind = 'USER'
                 WHERE t.token = ? AND t.kind IN ('SINGLE', 'POST')
                UNION ALL
                SELECT a.owner, -t.amount
                  FROM transfers t
                  JOIN accounts a ON a.id = t.debit_account_id AND a.kind = 'USER'
                  JOIN accounts c ON c.id = t.credit_account_id AND c.kind = 'CUSTODY'
                 WHERE t.token = ? AND t.kind IN ('SINGLE', 'POST')
                UNION ALL
                SELECT m.to_address, m.amount
                  FROM settlement_batch_movements m
                  JOIN settlement_batches b ON b.row_id = m.batch_row_id AND b.state = 'CONFIRMED'
                 WHERE m.token = ? AND m.kind = 'TRANSFER'
                UNION ALL
                SELECT m.from_address, -m.amount
                  FROM settlement_batch_movements m
                  JOIN settlement_batches b ON b.row_id = m.batch_row_id AND b.state = 'CONFIRMED'
                 WHERE m.token = ?
            ) movements
            GROUP BY address""";

    private final DataSource dataSource;

    public LedgerExpectedBalances(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Transfers that are movements of more than one confirmed batch row: settled twice (F2). */
    @Override
    public List<Mismatch> ledgerMismatches(Address token) {
        List<Mismatch> found = new ArrayList<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement("""
                     SELECT m.transfer_id, array_agg(b.batch_id ORDER BY b.batch_id)
                       FROM settlement_batch_movements m
                       JOIN settlement_batches b ON b.row_id = m.batch_row_id AND b.state = 'CONFIRMED'
                      WHERE m.token = ?
                      GROUP BY m.transfer_id HAVING count(*) > 1""")) {
            statement.setString(1, token.hex());
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    Long[] batches = (Long[]) rows.getArray(2).getArray();
                    found.add(new Mismatch.DoubleSettlement(token, rows.getString(1), List.of(batches)));
                }
            }
        } catch (SQLException e) {
            throw new LedgerException("looking for transfers settled twice failed", e);
        }
        return found;
    }

    /** Quarantined movements of {@code token}: transfers of it that {@code settlement_quarantine} holds. */
    @Override
    public long quarantined(Address token) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(
                     "SELECT count(*) FROM settlement_quarantine q JOIN transfers t ON t.id = q.transfer_id WHERE t.token = ?")) {
            statement.setString(1, token.hex());
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        } catch (SQLException e) {
            throw new LedgerException("counting quarantined movements failed", e);
        }
    }

    @Override
    public Map<Address, BigInteger> expectedSettled(Address token) {
        Map<Address, BigInteger> expected = new HashMap<>();
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(SQL)) {
            for (int i = 1; i <= 4; i++) {
                statement.setString(i, token.hex());
            }
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    expected.put(Address.of(rows.getString(1)), rows.getBigDecimal(2).toBigIntegerExact());
                }
            }
        } catch (SQLException e) {
            throw new LedgerException("reading the ledger's expected settled balances failed", e);
        }
        return expected;
    }
}
