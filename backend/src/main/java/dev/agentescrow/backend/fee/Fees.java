package dev.agentescrow.backend.fee;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The fee API other features call (docs/fees.md, "For features that pay out"): the rates in force
 * ({@link #rates()}: what a create shows and fixes, what a payer's maximum must cover), the split
 * of a gross payout under the one rounding rule ({@link FeeRates#split}), the ledger account each
 * fee goes to ({@link #account}), and {@link #record}, which stores the fees a payout booked with
 * it (in the caller's database transaction, idempotent by ledger transfer id) so that they are
 * reported and distributed.
 */
@Component
public class Fees {
    private final JdbcTemplate jdbc;
    private final FeeSettings settings;
    private final AuditLog audit;
    private final Clock clock;

    public Fees(JdbcTemplate jdbc, FeeSettings settings, AuditLog audit, Clock clock) {
        this.jdbc = jdbc;
        this.settings = settings;
        this.audit = audit;
        this.clock = clock;
    }

    /** The fees in force now: an admin's setting, else the configured defaults. */
    public FeeRates rates() {
        List<FeeRates> set = jdbc.query("SELECT platform_bps, protocol_bps FROM backend.fee_rates WHERE id = 1",
                (rs, n) -> new FeeRates(rs.getInt(1), rs.getInt(2)));
        return set.isEmpty() ? settings.defaults() : set.getFirst();
    }

    /** Whether the rates in force are an admin's (false: the configured defaults). */
    public boolean ratesSetByAdmin() {
        Integer n = jdbc.queryForObject("SELECT count(*) FROM backend.fee_rates", Integer.class);
        return n != null && n > 0;
    }

    /** Sets the rates in force for escrows created from now on (existing escrows keep theirs); audited. */
    public FeeRates setRates(FeeRates rates, String actor) {
        jdbc.update("INSERT INTO backend.fee_rates (id, platform_bps, protocol_bps, updated_by, updated_at)"
                        + " VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET platform_bps = EXCLUDED.platform_bps,"
                        + " protocol_bps = EXCLUDED.protocol_bps, updated_by = EXCLUDED.updated_by,"
                        + " updated_at = EXCLUDED.updated_at",
                rates.platformBps(), rates.protocolBps(), actor, Timestamp.from(clock.instant()));
        audit.record(actor, "FEE_RATES_SET", "fees", "rates", null, null);
        return rates;
    }

    /** Returns to the configured defaults; audited. */
    public FeeRates resetRates(String actor) {
        jdbc.update("DELETE FROM backend.fee_rates");
        audit.record(actor, "FEE_RATES_RESET", "fees", "rates", null, null);
        return settings.defaults();
    }

    /** The ledger account a fee of {@code type} in {@code token} is booked into. */
    public static AccountKey account(FeeType type, Address token) {
        return type.account(token);
    }

    /**
     * Stores fees booked in the ledger, with the payout that paid them. Call it in the database
     * transaction that records the payout, after the ledger committed the transfers; a charge whose
     * transfer id is stored already is skipped (a retry records nothing twice).
     */
    public void record(List<FeeCharge> charges) {
        for (FeeCharge c : charges) {
            jdbc.update("INSERT INTO backend.fee_charges (transfer_id, fee_type, source, subject, payee, token, amount,"
                            + " gross, ledger_seq, booked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                            + " ON CONFLICT (transfer_id) DO NOTHING",
                    c.transferId(), c.type().name(), c.source().name(), c.subject(),
                    c.payee() == null ? null : c.payee().hex(), c.token().hex(), new BigDecimal(c.amount()),
                    c.gross() == null ? null : new BigDecimal(c.gross()), c.ledgerSeq(), Timestamp.from(c.bookedAt()));
        }
    }

    /** The sum of the fees recorded for {@code subject} by type, e.g. an escrow's {@code escrow:esc_...}. */
    public BigInteger recorded(String subject, FeeType type) {
        BigDecimal sum = jdbc.queryForObject("SELECT COALESCE(sum(amount), 0) FROM backend.fee_charges"
                + " WHERE subject = ? AND fee_type = ?", BigDecimal.class, subject, type.name());
        return sum == null ? BigInteger.ZERO : sum.toBigIntegerExact();
    }

    public FeeSettings settings() {
        return settings;
    }
}
