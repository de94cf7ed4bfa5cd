package dev.agentescrow.backend.transfer;

import dev.agentescrow.backend.common.db.AheadOfTheLedger;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Date;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Amount limits per account: one transfer at most {@code maxTransferAmount}; what an account sends
 * per token in one UTC day at most {@code maxDailyAmount}. The day's totals live in PostgreSQL
 * ({@code backend.daily_amounts}, keyed by account, token and UTC day), so every instance counts
 * against the same total and a restart forgets nothing. A reservation is one conditional upsert
 * (atomic however many instances race); the payment gives it back if the ledger refuses. A process
 * that dies between the reservation and the ledger's answer leaves that allowance used: the limit
 * errs on the safe side. Reservations and give-backs commit without a WAL flush of their own
 * ({@link AheadOfTheLedger}): a reservation precedes its ledger write in the WAL, so the ledger's
 * synchronous commit makes it durable before the payment is acknowledged, and the account's row
 * lock is held for the statement only, not for an fsync.
 */
@Component
public class AmountLimits {
    private static final String RESERVE = """
            INSERT INTO backend.daily_amounts AS d (owner, token, day, amount)
            SELECT CAST(? AS CHAR(42)), CAST(? AS CHAR(42)), CAST(? AS DATE), CAST(? AS NUMERIC) FROM %s
            ON CONFLICT (owner, token, day) DO UPDATE SET amount = d.amount + EXCLUDED.amount
            WHERE d.amount + EXCLUDED.amount <= ?
            RETURNING amount""".formatted(AheadOfTheLedger.ASYNC_COMMIT);

    private final BigInteger maxTransfer;
    private final BigInteger maxDaily;
    private final Clock clock;
    private final JdbcTemplate jdbc;

    public AmountLimits(BackendProperties properties, Clock clock, JdbcTemplate jdbc) {
        this.maxTransfer = properties.limits().maxTransferAmount();
        this.maxDaily = properties.limits().maxDailyAmount();
        this.clock = clock;
        this.jdbc = jdbc;
    }

    public enum Verdict { OK, TRANSFER_LIMIT_EXCEEDED, DAILY_LIMIT_EXCEEDED }

    public boolean withinTransferLimit(BigInteger amount) {
        return amount.compareTo(maxTransfer) <= 0;
    }

    /**
     * Reserves {@code amount} of today's allowance of {@code owner} in {@code token};
     * {@link #release} gives it back if the transfer is not committed.
     */
    public Verdict reserve(Address owner, Address token, BigInteger amount) {
        if (!withinTransferLimit(amount)) {
            return Verdict.TRANSFER_LIMIT_EXCEEDED;
        }
        return reserveDaily(owner, token, amount) ? Verdict.OK : Verdict.DAILY_LIMIT_EXCEEDED;
    }

    /** Reserves {@code total} of today's allowance at once (several payments in one token): all or nothing. */
    public boolean reserveDaily(Address owner, Address token, BigInteger total) {
        if (total.compareTo(maxDaily) > 0) {
            return false;
        }
        List<BigDecimal> after = jdbc.query(RESERVE, (rs, n) -> rs.getBigDecimal(1), owner.hex(), token.hex(),
                Date.valueOf(today()), new BigDecimal(total), new BigDecimal(maxDaily));
        return !after.isEmpty();
    }

    /** Gives back {@code amount} of today's allowance (a reserved transfer the ledger did not commit). */
    public void release(Address owner, Address token, BigInteger amount) {
        jdbc.update("UPDATE backend.daily_amounts SET amount = greatest(amount - ?, 0) FROM "
                + AheadOfTheLedger.ASYNC_COMMIT + " WHERE owner = ? AND token = ? AND day = ?", new BigDecimal(amount), owner.hex(), token.hex(),
                Date.valueOf(today()));
    }

    /** What {@code owner} has sent today in {@code token}, as counted. */
    public BigInteger spentToday(Address owner, Address token) {
        return jdbc.query("SELECT amount FROM backend.daily_amounts WHERE owner = ? AND token = ? AND day = ?",
                (rs, n) -> rs.getBigDecimal(1).toBigIntegerExact(), owner.hex(), token.hex(), Date.valueOf(today()))
                .stream().findFirst().orElse(BigInteger.ZERO);
    }

    private LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }
}
