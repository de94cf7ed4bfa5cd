package dev.agentescrow.backend.fee;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.chain.Address;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The stakeholders the fees are distributed to, managed by admins: added (id from the admin's
 * Idempotency-Key, so a retried add finds the first), their name and shares changed, removed
 * (deactivated: past payments keep naming them). Every change is audited. At most one active
 * stakeholder per account, at most {@code agentescrow.fees.max-stakeholders} active at once;
 * changes and a distribution's plan serialize on one advisory lock, so a plan sees one set.
 */
@Component
public class Stakeholders {
    /** The advisory lock shared with the distribution's plan. */
    static final long LOCK = 0x16a_fee5L;
    private static final String COLUMNS = "id, account, name, shares, active, created_at, updated_at";

    private final JdbcTemplate jdbc;
    private final AuditLog audit;
    private final Clock clock;
    private final FeeSettings settings;
    private final TransactionTemplate tx;

    public Stakeholders(JdbcTemplate jdbc, AuditLog audit, Clock clock, FeeSettings settings, DataSource dataSource) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
        this.settings = settings;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** A stakeholder after a change, or a refusal. */
    public record Result(Stakeholder stakeholder, FeeRefusal refusal) {
        public boolean ok() {
            return refusal == null;
        }
    }

    /** Adds a stakeholder; {@code created} false when the key's earlier add is answered. */
    public Result add(String admin, String idempotencyKey, Address account, String name, long shares) {
        String id = FeeIds.stakeholderId(Address.of(admin), idempotencyKey);
        return tx.execute(status -> {
            lock();
            Optional<Stakeholder> earlier = find(id);
            if (earlier.isPresent()) {
                Stakeholder s = earlier.get();
                return s.account().equals(account) && s.name().equals(name) && s.shares() == shares
                        ? new Result(s, null) : new Result(null, FeeRefusal.STAKEHOLDER_ID_CONFLICT);
            }
            if (activeByAccount(account).isPresent()) {
                return new Result(null, FeeRefusal.STAKEHOLDER_EXISTS);
            }
            if (active().size() >= settings.maxStakeholders()) {
                return new Result(null, FeeRefusal.TOO_MANY_STAKEHOLDERS);
            }
            Instant now = clock.instant();
            jdbc.update("INSERT INTO backend.fee_stakeholders (id, account, name, shares, active, created_at, updated_at)"
                    + " VALUES (?, ?, ?, ?, TRUE, ?, ?)", id, account.hex(), name, shares, Timestamp.from(now),
                    Timestamp.from(now));
            audit.record(admin, "FEE_STAKEHOLDER_ADDED", "stakeholder", id, null, null);
            return new Result(find(id).orElseThrow(), null);
        });
    }

    /** Changes an active stakeholder's name and/or shares (null: unchanged); empty if there is none with this id. */
    public Optional<Result> update(String admin, String id, String name, Long shares) {
        return tx.execute(status -> {
            lock();
            Optional<Stakeholder> found = find(id);
            if (found.isEmpty()) {
                return Optional.<Result>empty();
            }
            if (!found.get().active()) {
                return Optional.of(new Result(null, FeeRefusal.STAKEHOLDER_REMOVED));
            }
            jdbc.update("UPDATE backend.fee_stakeholders SET name = COALESCE(?, name), shares = COALESCE(?, shares),"
                    + " updated_at = ? WHERE id = ?", name, shares, Timestamp.from(clock.instant()), id);
            audit.record(admin, "FEE_STAKEHOLDER_CHANGED", "stakeholder", id, null, null);
            return Optional.of(new Result(find(id).orElseThrow(), null));
        });
    }

    /** Removes (deactivates) a stakeholder; removing a removed one answers it as it is. Empty if unknown. */
    public Optional<Stakeholder> remove(String admin, String id) {
        return tx.execute(status -> {
            lock();
            Optional<Stakeholder> found = find(id);
            if (found.isEmpty() || !found.get().active()) {
                return found;
            }
            jdbc.update("UPDATE backend.fee_stakeholders SET active = FALSE, updated_at = ? WHERE id = ?",
                    Timestamp.from(clock.instant()), id);
            audit.record(admin, "FEE_STAKEHOLDER_REMOVED", "stakeholder", id, null, null);
            return find(id);
        });
    }

    public Optional<Stakeholder> find(String id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM backend.fee_stakeholders WHERE id = ?", Stakeholders::row, id)
                .stream().findFirst();
    }

    /** The active stakeholders, oldest first (the order a distribution divides in). */
    public List<Stakeholder> active() {
        return jdbc.query("SELECT " + COLUMNS + " FROM backend.fee_stakeholders WHERE active ORDER BY position",
                Stakeholders::row);
    }

    /** Every stakeholder, active or removed, newest first, at most {@code limit}. */
    public List<Stakeholder> all(int limit) {
        return jdbc.query("SELECT " + COLUMNS + " FROM backend.fee_stakeholders ORDER BY position DESC LIMIT ?",
                Stakeholders::row, limit);
    }

    private Optional<Stakeholder> activeByAccount(Address account) {
        return jdbc.query("SELECT " + COLUMNS + " FROM backend.fee_stakeholders WHERE active AND account = ?",
                Stakeholders::row, account.hex()).stream().findFirst();
    }

    /** Takes the fee feature's advisory lock until the caller's transaction ends. */
    void lock() {
        jdbc.query("SELECT pg_advisory_xact_lock(?)", rs -> null, LOCK);
    }

    private static Stakeholder row(ResultSet rs, int n) throws SQLException {
        return new Stakeholder(rs.getString(1), Address.of(rs.getString(2)), rs.getString(3), rs.getLong(4),
                rs.getBoolean(5), rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant());
    }
}
