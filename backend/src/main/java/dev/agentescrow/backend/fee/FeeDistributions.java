package dev.agentescrow.backend.fee;

import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.backend.gateway.LedgerUnavailableException;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.batcher.command.ServiceCommands;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Distributions of the collected fees to the stakeholders, one period at a time, exactly once.
 *
 * <p><b>Plan</b> (one database transaction under the fee feature's advisory lock): period
 * {@code n} (one more than the last; unique key) claims every fee charge no period claimed yet;
 * per token and fee type its pool is what it claimed plus what the previous period carried; each
 * active stakeholder's part is {@code floor(pool * shares / totalShares)} ({@link FeeShares}) and the
 * remainder is carried to the next period (it stays in the fee account). The payments are stored
 * with transfer ids derived from (period, stakeholder, token, type) and a random secret of the plan
 * ({@link FeeIds#payment}), so that no one computes them before the plan; paying reads them from the rows.
 *
 * <p><b>Pay</b>: each (token, type) group is one linked ledger submission out of FEES or
 * PROTOCOL_FEES through the service commands (rule FEE_DISTRIBUTION, audited with the transfers);
 * then the period is DISTRIBUTED. A crash, a retry or a concurrent caller between plan and pay pays
 * the same planned period again with the same ids, and the ledger answers EXISTS: paid once. Only
 * one period is PLANNED at a time (a unique index), and a new plan first finishes it.
 */
@Component
public class FeeDistributions {
    private static final Logger log = LoggerFactory.getLogger(FeeDistributions.class);
    private static final String PERIOD_COLUMNS = "number, starts_at, ends_at, trigger, actor, state, planned_at,"
            + " distributed_at";

    private final JdbcTemplate jdbc;
    private final Stakeholders stakeholders;
    private final Batcher batcher;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final EventPublisher events;

    public FeeDistributions(JdbcTemplate jdbc, Stakeholders stakeholders, Batcher batcher, Clock clock,
                            DataSource dataSource, EventPublisher events) {
        this.events = events;
        this.jdbc = jdbc;
        this.stakeholders = stakeholders;
        this.batcher = batcher;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** The period distributed (or finished) by a call, or why none was. */
    public record Outcome(FeePeriod period, FeeRefusal refusal) {
        public boolean ok() {
            return refusal == null;
        }
    }

    /** One planned payment. */
    public record Payment(long period, String stakeholderId, Address account, long shares, Address token,
                          FeeType type, BigInteger amount, UUID transferId, Long ledgerSeq) {
    }

    /** One (token, type) line of a period: collected, carried in, distributed, carried out. */
    public record Total(Address token, FeeType type, BigInteger collected, BigInteger carriedIn,
                        BigInteger distributed, BigInteger carriedOut) {
    }

    /**
     * Distributes: first finishes a period planned but not yet paid (answered as the outcome, so a
     * retry or a concurrent call gets the period that was being paid); else plans the next period
     * and pays it. Must run on the ledger's leader.
     */
    public Outcome distribute(FeePeriod.Trigger trigger, String actor) {
        Optional<FeePeriod> planned = planned();
        if (planned.isPresent()) {
            return new Outcome(pay(planned.get()), null);
        }
        Outcome outcome = plan(trigger, actor);
        return outcome.ok() ? new Outcome(pay(outcome.period()), null) : outcome;
    }

    /** Pays a period left PLANNED (a crash between plan and pay); empty if there is none. */
    public Optional<FeePeriod> finishPlanned() {
        return planned().map(this::pay);
    }

    /** When the newest period ended (empty: none yet), for the schedule. */
    public Optional<Instant> lastEnd() {
        return jdbc.query("SELECT ends_at FROM backend.fee_periods ORDER BY number DESC LIMIT 1",
                (rs, n) -> rs.getTimestamp(1).toInstant()).stream().findFirst();
    }

    /** The oldest fee charge no period claimed yet (empty: none), for the schedule. */
    public Optional<Instant> oldestUnclaimed() {
        return Optional.ofNullable(jdbc.queryForObject("SELECT min(booked_at) FROM backend.fee_charges"
                + " WHERE period IS NULL", Timestamp.class)).map(Timestamp::toInstant);
    }

    private Outcome plan(FeePeriod.Trigger trigger, String actor) {
        return tx.execute(status -> {
            stakeholders.lock();
            Optional<FeePeriod> planned = planned();
            if (planned.isPresent()) {
                return new Outcome(planned.get(), null);
            }
            List<Stakeholder> receivers = stakeholders.active();
            if (receivers.isEmpty()) {
                return new Outcome(null, FeeRefusal.NO_STAKEHOLDERS);
            }
            Instant now = clock.instant();
            Optional<Instant> lastEnd = lastEnd();
            Long last = jdbc.queryForObject("SELECT COALESCE(max(number), 0) FROM backend.fee_periods", Long.class);
            long number = (last == null ? 0 : last) + 1;
            Instant start = lastEnd.or(this::oldestUnclaimed).orElse(now);
            if (start.isAfter(now)) {
                start = now;
            }
            jdbc.update("INSERT INTO backend.fee_periods (number, starts_at, ends_at, trigger, actor, state, planned_at)"
                    + " VALUES (?, ?, ?, ?, ?, 'PLANNED', ?)", number, Timestamp.from(start), Timestamp.from(now),
                    trigger.name(), actor, Timestamp.from(now));
            Map<String, BigInteger> collected = new LinkedHashMap<>();
            jdbc.query("WITH claimed AS (UPDATE backend.fee_charges SET period = ? WHERE period IS NULL"
                    + " RETURNING token, fee_type, amount)"
                    + " SELECT token, fee_type, sum(amount) FROM claimed GROUP BY token, fee_type ORDER BY token, fee_type",
                    rs -> {
                        collected.put(rs.getString(1) + "/" + rs.getString(2), rs.getBigDecimal(3).toBigIntegerExact());
                    }, number);
            if (collected.isEmpty()) {
                status.setRollbackOnly();
                return new Outcome(null, FeeRefusal.NOTHING_TO_DISTRIBUTE);
            }
            Map<String, BigInteger> carried = new LinkedHashMap<>();
            jdbc.query("SELECT DISTINCT ON (token, fee_type) token, fee_type, carried_out FROM backend.fee_period_totals"
                    + " WHERE period < ? ORDER BY token, fee_type, period DESC", rs -> {
                        carried.put(rs.getString(1) + "/" + rs.getString(2), rs.getBigDecimal(3).toBigIntegerExact());
                    }, number);
            Map<String, BigInteger> pools = new LinkedHashMap<>();
            collected.keySet().forEach(k -> pools.put(k, BigInteger.ZERO));
            carried.forEach((k, v) -> {
                if (v.signum() > 0) {
                    pools.putIfAbsent(k, BigInteger.ZERO);
                }
            });
            List<Long> shares = receivers.stream().map(Stakeholder::shares).toList();
            String secret = DerivedIds.newSecret();
            for (String key : pools.keySet()) {
                Address token = Address.of(key.substring(0, key.indexOf('/')));
                FeeType type = FeeType.valueOf(key.substring(key.indexOf('/') + 1));
                BigInteger in = carried.getOrDefault(key, BigInteger.ZERO);
                BigInteger got = collected.getOrDefault(key, BigInteger.ZERO);
                FeeShares.Division division = FeeShares.divide(got.add(in), shares);
                BigInteger distributed = got.add(in).subtract(division.remainder());
                jdbc.update("INSERT INTO backend.fee_period_totals (period, token, fee_type, collected, carried_in,"
                        + " distributed, carried_out) VALUES (?, ?, ?, ?, ?, ?, ?)", number, token.hex(), type.name(),
                        dec(got), dec(in), dec(distributed), dec(division.remainder()));
                for (int i = 0; i < receivers.size(); i++) {
                    BigInteger part = division.parts().get(i);
                    if (part.signum() > 0) {
                        Stakeholder s = receivers.get(i);
                        jdbc.update("INSERT INTO backend.fee_payments (period, stakeholder_id, account, shares, token,"
                                + " fee_type, amount, transfer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", number, s.id(),
                                s.account().hex(), s.shares(), token.hex(), type.name(), dec(part),
                                FeeIds.payment(number, s.id(), token, type, secret).toUuid());
                    }
                }
            }
            return new Outcome(period(number).orElseThrow(), null);
        });
    }

    /** Pays every payment of a planned period (again: the ledger answers EXISTS for those it has), then marks it DISTRIBUTED. */
    private FeePeriod pay(FeePeriod period) {
        if (period.state() == FeePeriod.State.DISTRIBUTED) {
            return period;
        }
        Map<String, List<Payment>> groups = new LinkedHashMap<>();
        for (Payment p : payments(period.number())) {
            groups.computeIfAbsent(p.token().hex() + "/" + p.type().name(), k -> new ArrayList<>()).add(p);
        }
        ServiceCommands commands = guarded(batcher::serviceCommands);
        for (List<Payment> group : groups.values()) {
            Payment first = group.getFirst();
            AccountKey from = first.type().account(first.token());
            List<ServiceCommands.Share> shares = group.stream().map(p -> new ServiceCommands.Share(
                    TransferId.of(p.transferId()), AccountKey.user(p.account(), p.token()), Amount.of(p.amount())))
                    .toList();
            List<TransferReceipt> receipts = guarded(() -> commands.distributeFees("fee-distribution", from, shares,
                    "fee period " + period.number()));
            for (int i = 0; i < receipts.size(); i++) {
                TransferReceipt receipt = receipts.get(i);
                if (!receipt.committed()) {
                    throw new IllegalStateException("the ledger refused fee payment " + group.get(i).transferId()
                            + " of period " + period.number() + ": " + receipt.result()
                            + " (the fee account holds less than the period's plan)");
                }
                jdbc.update("UPDATE backend.fee_payments SET ledger_seq = ? WHERE transfer_id = ? AND ledger_seq IS NULL",
                        receipt.seq(), group.get(i).transferId());
            }
        }
        tx.executeWithoutResult(status -> {
            int marked = jdbc.update("UPDATE backend.fee_periods SET state = 'DISTRIBUTED', distributed_at = ?"
                    + " WHERE number = ? AND state = 'PLANNED'", Timestamp.from(clock.instant()), period.number());
            if (marked == 1) {
                for (Payment p : payments(period.number())) {
                    events.publishOnce("fee.distributed:" + p.transferId(), EventType.FEE_DISTRIBUTED,
                            List.of(p.account()), "fee-period:" + p.period(), Map.of("period", p.period(),
                                    "token", p.token().checksummed(), "feeType", p.type().name(),
                                    "amount", p.amount().toString(), "ledgerTransferId", p.transferId().toString(),
                                    "stakeholderId", p.stakeholderId()));
                }
            }
        });
        log.info("fee period {} distributed ({} payments)", period.number(),
                groups.values().stream().mapToInt(List::size).sum());
        return period(period.number()).orElseThrow();
    }

    public Optional<FeePeriod> period(long number) {
        return jdbc.query("SELECT " + PERIOD_COLUMNS + " FROM backend.fee_periods WHERE number = ?",
                FeeDistributions::periodRow, number).stream().findFirst();
    }

    private Optional<FeePeriod> planned() {
        return jdbc.query("SELECT " + PERIOD_COLUMNS + " FROM backend.fee_periods WHERE state = 'PLANNED'",
                FeeDistributions::periodRow).stream().findFirst();
    }

    /** Periods newest first, before number {@code before} (0: from the newest), at most {@code limit}. */
    public List<FeePeriod> periods(long before, int limit) {
        return jdbc.query("SELECT " + PERIOD_COLUMNS + " FROM backend.fee_periods WHERE (? = 0 OR number < ?)"
                + " ORDER BY number DESC LIMIT ?", FeeDistributions::periodRow, before, before, limit);
    }

    public List<Payment> payments(long period) {
        return jdbc.query("SELECT period, stakeholder_id, account, shares, token, fee_type, amount, transfer_id, ledger_seq"
                + " FROM backend.fee_payments WHERE period = ? ORDER BY token, fee_type, stakeholder_id", (rs, n) ->
                new Payment(rs.getLong(1), rs.getString(2), Address.of(rs.getString(3)), rs.getLong(4),
                        Address.of(rs.getString(5)), FeeType.valueOf(rs.getString(6)),
                        rs.getBigDecimal(7).toBigIntegerExact(), rs.getObject(8, UUID.class),
                        (Long) rs.getObject(9)), period);
    }

    public List<Total> totals(long period) {
        return jdbc.query("SELECT token, fee_type, collected, carried_in, distributed, carried_out"
                + " FROM backend.fee_period_totals WHERE period = ? ORDER BY token, fee_type", (rs, n) ->
                new Total(Address.of(rs.getString(1)), FeeType.valueOf(rs.getString(2)), big(rs, 3), big(rs, 4),
                        big(rs, 5), big(rs, 6)), period);
    }

    private static FeePeriod periodRow(ResultSet rs, int n) throws SQLException {
        Timestamp distributed = rs.getTimestamp(8);
        return new FeePeriod(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant(),
                FeePeriod.Trigger.valueOf(rs.getString(4)), rs.getString(5), FeePeriod.State.valueOf(rs.getString(6)),
                rs.getTimestamp(7).toInstant(), distributed == null ? null : distributed.toInstant());
    }

    private static BigInteger big(ResultSet rs, int column) throws SQLException {
        return rs.getBigDecimal(column).toBigIntegerExact();
    }

    private static BigDecimal dec(BigInteger value) {
        return new BigDecimal(value);
    }

    private static <T> T guarded(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (LedgerException | NotLeaderException e) {
            throw new LedgerUnavailableException(e.getMessage(), e);
        }
    }
}
