package dev.agentescrow.batcher.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/** Shared test data and checks for ledger tests. */
final class LedgerFixtures {
    static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    static final Address EURC = Address.of("0x00000000000000000000000000000000000000e2");
    static final Address UNREGISTERED = Address.of("0x00000000000000000000000000000000000000ff");
    static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    static final Address CAROL = Address.of("0x00000000000000000000000000000000000ca501");

    private static final AtomicLong IDS = new AtomicLong(1);

    private LedgerFixtures() {
    }

    static TransferId nextId() {
        return new TransferId(0x5EED, IDS.getAndIncrement());
    }

    static AccountKey user(Address owner) {
        return AccountKey.user(owner, USDC);
    }

    static Amount amount(long units) {
        return Amount.of(units);
    }

    static void registerTokens(Ledger ledger) {
        assertThat(ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture"))
                .isEqualTo(TokenRegistration.REGISTERED);
        assertThat(ledger.registerToken(new Token(EURC, "EURC", 6), "test", "fixture"))
                .isEqualTo(TokenRegistration.REGISTERED);
    }

    static void deposit(Ledger ledger, Address owner, long units) {
        assertThat(ledger.submit(TransferRequest.single(nextId(), AccountKey.custody(USDC), user(owner),
                amount(units)))).isEqualTo(TransferResult.OK);
    }

    static BigInteger available(Ledger ledger, AccountKey key) {
        return ledger.balance(key).map(AccountBalance::available).orElse(BigInteger.ZERO);
    }

    static BigInteger balance(Ledger ledger, AccountKey key) {
        return ledger.balance(key).map(AccountBalance::balance).orElse(BigInteger.ZERO);
    }

    /** Per token: posted balances and pending amounts over all accounts each sum to zero. */
    static void assertSumsToZero(Map<AccountKey, AccountBalance> balances) {
        Map<Address, BigInteger> posted = new HashMap<>();
        Map<Address, BigInteger> pending = new HashMap<>();
        for (AccountBalance b : balances.values()) {
            posted.merge(b.key().token(), b.balance(), BigInteger::add);
            pending.merge(b.key().token(), b.creditsPending().subtract(b.debitsPending()), BigInteger::add);
            if (!b.key().kind().mayGoNegative()) {
                assertThat(b.available()).as("available of %s", b.key()).isNotNegative();
            }
        }
        posted.forEach((token, sum) -> assertThat(sum).as("posted sum of %s", token).isZero());
        pending.forEach((token, sum) -> assertThat(sum).as("pending sum of %s", token).isZero());
    }

    /** Row counts of the ledger tables plus all balances: equal snapshots mean nothing was written. */
    static String snapshot(DataSource dataSource, Ledger ledger) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM transfers), (SELECT count(*) FROM accounts),"
                     + " (SELECT count(*) FROM audit_log), (SELECT count(*) FROM tokens)")) {
            rs.next();
            return rs.getLong(1) + "/" + rs.getLong(2) + "/" + rs.getLong(3) + "/" + rs.getLong(4) + " "
                    + ledger.balances();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static long count(DataSource dataSource, String sql) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
