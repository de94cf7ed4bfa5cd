package dev.agentescrow.backend.transfer;

import dev.agentescrow.backend.common.db.AheadOfTheLedger;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.backend.idempotency.IdempotencyStore;
import dev.agentescrow.backend.idempotency.PendingClaim;
import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Date;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
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

    /**
     * {@link #RESERVE} with the request's Idempotency-Key claim in front ({@link IdempotencyStore#CLAIM_CTE}):
     * one statement, one round trip and one commit for both; nothing is reserved unless the key was
     * claimed. Answers (claimed, reserved), each 0 or 1.
     */
    private static final String CLAIM_AND_RESERVE = """
            WITH %s,
            reserved AS (INSERT INTO backend.daily_amounts AS d (owner, token, day, amount)
                SELECT CAST(? AS CHAR(42)), CAST(? AS CHAR(42)), CAST(? AS DATE), CAST(? AS NUMERIC) FROM claim
                ON CONFLICT (owner, token, day) DO UPDATE SET amount = d.amount + EXCLUDED.amount
                WHERE d.amount + EXCLUDED.amount <= ?
                RETURNING amount)
            SELECT (SELECT count(*) FROM claim)::int, (SELECT count(*) FROM reserved)::int""".formatted(IdempotencyStore.CLAIM_CTE);

    private final BigInteger maxTransfer;
    private final BigInteger maxDaily;
    private final Clock clock;
    private final JdbcTemplate jdbc;
    private final IdempotencyStore idempotency;

    public AmountLimits(BackendProperties properties, Clock clock, JdbcTemplate jdbc, IdempotencyStore idempotency) {
        this.maxTransfer = properties.limits().maxTransferAmount();
        this.maxDaily = properties.limits().maxDailyAmount();
        this.clock = clock;
        this.jdbc = jdbc;
        this.idempotency = idempotency;
    }

    public enum Verdict { OK, TRANSFER_LIMIT_EXCEEDED, DAILY_LIMIT_EXCEEDED }

    public boolean withinTransferLimit(BigInteger amount) {
        return amount.compareTo(maxTransfer) <= 0;
    }

    /**
     * Reserves {@code amount} of today's allowance of {@code owner} in {@code token};
     * {@link #release} gives it back, to the same day, if the transfer is not committed.
     */
    public Verdict reserve(Address owner, Address token, BigInteger amount) {
        return reserve(owner, token, amount, null, today());
    }

    /**
     * As {@link #reserve(Address, Address, BigInteger)}, from the allowance of {@code day} (the
     * caller's {@link #today()}, which it gives back to with {@link #release}), claiming
     * {@code claim} with it (see {@link #reserveDaily}).
     */
    public Verdict reserve(Address owner, Address token, BigInteger amount, PendingClaim claim, LocalDate day) {
        if (!withinTransferLimit(amount)) {
            return Verdict.TRANSFER_LIMIT_EXCEEDED;
        }
        return reserveDaily(owner, token, amount, claim, day) ? Verdict.OK : Verdict.DAILY_LIMIT_EXCEEDED;
    }

    /**
     * Reserves {@code total} of {@code day}'s allowance at once (several payments in one token):
     * all or nothing; and claims the request's Idempotency-Key in the same statement if
     * {@code claim} is not null and not claimed yet (throws {@link PendingClaim.KeyTakenException},
     * nothing reserved, if another request holds it).
     */
    public boolean reserveDaily(Address owner, Address token, BigInteger total, PendingClaim claim, LocalDate day) {
        if (total.compareTo(maxDaily) > 0) {
            return false;
        }
        Object[] reservation = {owner.hex(), token.hex(), Date.valueOf(day), new BigDecimal(total),
                new BigDecimal(maxDaily)};
        if (claim != null && !claim.claimed()) {
            Object[] parameters = concat(idempotency.claimParameters(claim), reservation);
            int[] outcome = jdbc.queryForObject(CLAIM_AND_RESERVE, (rs, n) -> new int[] {rs.getInt(1), rs.getInt(2)},
                    parameters);
            claim.claimedBy(outcome[0] == 1);
            return outcome[1] == 1;
        }
        List<BigDecimal> after = jdbc.query(RESERVE, (rs, n) -> rs.getBigDecimal(1), reservation);
        return !after.isEmpty();
    }

    private static Object[] concat(Object[] first, Object[] second) {
        Object[] all = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    /**
     * Gives back {@code amount} of the allowance of {@code day}, the day it was reserved from (a
     * reserved transfer the ledger did not commit): a payment reserved before midnight and refused
     * after it gives back to the day it counted against, never to the new one.
     */
    public void release(Address owner, Address token, BigInteger amount, LocalDate day) {
        jdbc.update("UPDATE backend.daily_amounts SET amount = greatest(amount - ?, 0) FROM "
                + AheadOfTheLedger.ASYNC_COMMIT + " WHERE owner = ? AND token = ? AND day = ?", new BigDecimal(amount), owner.hex(), token.hex(),
                Date.valueOf(day));
    }

    /**
     * Deletes the totals of the days before yesterday (UTC), every hour: only today's count, and
     * yesterday's is kept for a payment reserved before midnight that gives back after it.
     */
    @Scheduled(fixedDelayString = "PT1H", initialDelayString = "PT1M")
    public void purge() {
        purgeBefore(today().minusDays(1));
    }

    /** Deletes the totals of the days before {@code day}; returns how many rows went. */
    public int purgeBefore(LocalDate day) {
        return jdbc.update("DELETE FROM backend.daily_amounts WHERE day < ?", Date.valueOf(day));
    }

    /** What {@code owner} has sent today in {@code token}, as counted. */
    public BigInteger spentToday(Address owner, Address token) {
        return jdbc.query("SELECT amount FROM backend.daily_amounts WHERE owner = ? AND token = ? AND day = ?",
                (rs, n) -> rs.getBigDecimal(1).toBigIntegerExact(), owner.hex(), token.hex(), Date.valueOf(today()))
                .stream().findFirst().orElse(BigInteger.ZERO);
    }

    /** The UTC day whose allowance a reservation made now uses. */
    public LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
    }
}
