package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.chain.Address;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The escrows' rows in schema {@code backend}: terms and state ({@code escrows}), payees, parties
 * by role (for the lists), and the history of every state change with its ledger transfers. The
 * callers run every change inside one transaction that holds the escrow's row lock.
 */
@Component
public class EscrowStore {
    private static final String COLUMNS = "id, state, payer, token, arbiter, evaluator, deadline, grace_seconds,"
            + " arbitration_seconds, arbitration_deadline, fee_bps, max_fee_bps, fallback, atomic, terms_hash, amount,"
            + " held, fees_paid, version, created_at, updated_at, position, protocol_fee_bps, fee_source";

    private final JdbcTemplate jdbc;
    private final EventPublisher events;

    public EscrowStore(JdbcTemplate jdbc, EventPublisher events) {
        this.jdbc = jdbc;
        this.events = events;
    }

    /** One ledger transfer of a history entry. */
    public record TransferPart(UUID transferId, String kind, int index, Address account, BigInteger amount,
                               long ledgerSeq) {
    }

    /** One state change: the action, who (an address or {@code scheduler}), the rule, the states, the transfers. */
    public record HistoryEntry(int seq, EscrowAction action, String actor, String rule, EscrowState from,
                               EscrowState to, String detail, Instant occurredAt, List<TransferPart> transfers,
                               String txHash, Long blockNumber) {
        /** An entry of a ledger escrow (no chain transaction). */
        public HistoryEntry(int seq, EscrowAction action, String actor, String rule, EscrowState from, EscrowState to,
                            String detail, Instant occurredAt, List<TransferPart> transfers) {
            this(seq, action, actor, rule, from, to, detail, occurredAt, transfers, null, null);
        }
    }

    /** An escrow with its list position (the keyset cursor). */
    public record Listed(Escrow escrow, long position) {
    }

    /**
     * Inserts a new ledger escrow, its payees and parties, with {@code transferSalt}, the secret its
     * payout ids derive from ({@link EscrowIds}); false if the id exists (a retried create).
     */
    public boolean insert(Escrow e, String transferSalt) {
        return insert(e, false, transferSalt);
    }

    /**
     * Inserts a new chain escrow, its payees and parties (no transfer salt: it pays nothing through the
     * ledger); false if the id exists (a retried create). A chain escrow has no due time: its deadlines
     * are the contract's, not the ledger schedule's.
     */
    public boolean insertChain(Escrow e) {
        return insert(e, true, null);
    }

    private boolean insert(Escrow e, boolean chain, String transferSalt) {
        int inserted = jdbc.update("INSERT INTO backend.escrows (id, custody, state, payer, token, arbiter, evaluator,"
                        + " deadline, grace_seconds, arbitration_seconds, fee_bps, max_fee_bps, fallback, atomic, terms_hash,"
                        + " amount, held, version, due_at, created_at, updated_at, protocol_fee_bps, fee_source,"
                        + " transfer_salt)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (id) DO NOTHING",
                e.id(), chain ? "CHAIN" : "LEDGER", e.state().name(), e.payer().hex(), e.token().hex(), e.arbiter().hex(),
                e.evaluator() == null ? null : e.evaluator().hex(), ts(e.deadline()), e.graceSeconds(),
                e.arbitrationSeconds(), e.feeBps(), e.maxFeeBps(), e.fallback().name(), e.atomic(), e.termsHash(),
                dec(e.amount()), dec(e.held()), e.version(), chain ? null : ts(e.graceEnd()), ts(e.createdAt()),
                ts(e.updatedAt()), e.protocolFeeBps(), e.feeSource().name(), transferSalt);
        if (inserted == 0) {
            return false;
        }
        long position = jdbc.queryForObject("SELECT position FROM backend.escrows WHERE id = ?", Long.class, e.id());
        for (Escrow.Payee p : e.payees()) {
            jdbc.update("INSERT INTO backend.escrow_payees (escrow_id, idx, account, share) VALUES (?, ?, ?, ?)",
                    e.id(), p.index(), p.account().hex(), dec(p.share()));
        }
        party(e.id(), position, e.payer(), EscrowRole.PAYER);
        party(e.id(), position, e.arbiter(), EscrowRole.ARBITER);
        if (e.evaluator() != null) {
            party(e.id(), position, e.evaluator(), EscrowRole.EVALUATOR);
        }
        for (Escrow.Payee p : e.payees()) {
            party(e.id(), position, p.account(), EscrowRole.PAYEE);
        }
        return true;
    }

    private void party(String id, long position, Address party, EscrowRole role) {
        jdbc.update("INSERT INTO backend.escrow_parties (escrow_id, position, party, role) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT DO NOTHING", id, position, party.hex(), role.name());
    }

    /** The secret the escrow's payout ids derive from; null for an escrow created before it (or none). */
    public String transferSalt(String id) {
        List<String> salts = jdbc.query("SELECT transfer_salt FROM backend.escrows WHERE id = ?",
                (rs, n) -> rs.getString(1), id);
        return salts.isEmpty() ? null : salts.getFirst();
    }

    public Optional<Escrow> find(String id) {
        return load("SELECT " + COLUMNS + " FROM backend.escrows WHERE id = ?", id);
    }

    /**
     * The escrow, its row locked until the caller's transaction ends (concurrent actions on one
     * escrow queue here); with {@code skipLocked} an escrow another transaction holds is skipped (empty).
     */
    public Optional<Escrow> lock(String id, boolean skipLocked) {
        return load("SELECT " + COLUMNS + " FROM backend.escrows WHERE id = ? FOR UPDATE"
                + (skipLocked ? " SKIP LOCKED" : ""), id);
    }

    private Optional<Escrow> load(String sql, String id) {
        List<Listed> found = jdbc.query(sql, (rs, n) -> row(rs, List.of()), id);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        Escrow e = found.getFirst().escrow();
        return Optional.of(withPayees(e, payees(List.of(id)).getOrDefault(id, List.of())));
    }

    private Map<String, List<Escrow.Payee>> payees(List<String> ids) {
        Map<String, List<Escrow.Payee>> out = new LinkedHashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        jdbc.query("SELECT escrow_id, idx, account, share, released, accepted_at FROM backend.escrow_payees"
                + " WHERE escrow_id = ANY(?) ORDER BY escrow_id, idx", rs -> {
                    out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(new Escrow.Payee(rs.getInt(2),
                            Address.of(rs.getString(3)), big(rs, 4), big(rs, 5), instant(rs, 6)));
                }, (Object) ids.toArray(String[]::new));
        return out;
    }

    private static Escrow withPayees(Escrow e, List<Escrow.Payee> payees) {
        return new Escrow(e.id(), e.state(), e.payer(), e.token(), e.arbiter(), e.evaluator(), e.deadline(),
                e.graceSeconds(), e.arbitrationSeconds(), e.arbitrationDeadline(), e.feeBps(), e.maxFeeBps(),
                e.fallback(), e.atomic(), e.termsHash(), e.amount(), e.held(), e.feesPaid(), e.version(),
                e.createdAt(), e.updatedAt(), payees, e.protocolFeeBps(), e.feeSource());
    }

    private static Listed row(ResultSet rs, List<Escrow.Payee> payees) throws SQLException {
        String evaluator = rs.getString(6);
        return new Listed(new Escrow(rs.getString(1), EscrowState.valueOf(rs.getString(2)), Address.of(rs.getString(3)),
                Address.of(rs.getString(4)), Address.of(rs.getString(5)), evaluator == null ? null : Address.of(evaluator),
                instant(rs, 7), rs.getLong(8), rs.getLong(9), instant(rs, 10), rs.getInt(11), rs.getInt(12),
                FallbackRule.valueOf(rs.getString(13)), rs.getBoolean(14), rs.getString(15), big(rs, 16), big(rs, 17),
                big(rs, 18), rs.getInt(19), instant(rs, 20), instant(rs, 21), payees, rs.getInt(23),
                FeeSource.valueOf(rs.getString(24))), rs.getLong(22));
    }

    /**
     * Writes the escrow after an action (its row must be locked by this transaction): state,
     * held, fees, version, deadlines; the payees' releases and acceptances; the history entry and
     * its transfers.
     */
    public void applied(Escrow after, HistoryEntry entry) {
        Instant due = Escrow.dueAt(after.state(), after.graceEnd(), after.arbitrationDeadline());
        int updated = jdbc.update("UPDATE backend.escrows SET state = ?, held = ?, fees_paid = ?, version = ?,"
                        + " arbitration_deadline = ?, due_at = ?, updated_at = ? WHERE id = ? AND version = ?",
                after.state().name(), dec(after.held()), dec(after.feesPaid()), after.version(),
                ts(after.arbitrationDeadline()), ts(due), ts(after.updatedAt()), after.id(), after.version() - 1);
        if (updated != 1) {
            throw new IllegalStateException("escrow " + after.id() + " changed under its row lock");
        }
        for (Escrow.Payee p : after.payees()) {
            jdbc.update("UPDATE backend.escrow_payees SET released = ?, accepted_at = ? WHERE escrow_id = ? AND idx = ?",
                    dec(p.released()), ts(p.acceptedAt()), after.id(), p.index());
        }
        history(after.id(), entry);
    }

    /**
     * Appends a history entry and its transfers, and publishes its event to every party (payer,
     * payees, arbiter, evaluator) in the same transaction: once per entry ({@code escrow:<id>:<seq>}).
     */
    public void history(String id, HistoryEntry entry) {
        historyRow(id, entry);
        publish(id, entry, "escrow:" + id + ":" + entry.seq());
    }

    /** Appends a history entry and its transfers, without publishing it. */
    void historyRow(String id, HistoryEntry entry) {
        jdbc.update("INSERT INTO backend.escrow_history (escrow_id, seq, action, actor, rule, from_state, to_state,"
                        + " detail, occurred_at, tx_hash, block_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                id, entry.seq(), entry.action().name(), entry.actor(), entry.rule(),
                entry.from() == null ? null : entry.from().name(), entry.to().name(), entry.detail(),
                ts(entry.occurredAt()), entry.txHash(), entry.blockNumber());
        for (TransferPart t : entry.transfers()) {
            jdbc.update("INSERT INTO backend.escrow_transfers (escrow_id, seq, transfer_id, kind, idx, account, amount,"
                            + " ledger_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, entry.seq(), t.transferId(), t.kind(),
                    t.index(), t.account() == null ? null : t.account().hex(), dec(t.amount()), t.ledgerSeq());
        }
    }

    /** Publishes the entry's event to every party of the escrow, once per {@code dedupeKey}. */
    void publish(String id, HistoryEntry entry, String dedupeKey) {
        publish(id, entry, dedupeKey, List.of());
    }

    /** As above, with the chain payouts ({@code kind}, {@code account}, {@code amount}, {@code fee}) of the entry. */
    void publish(String id, HistoryEntry entry, String dedupeKey, List<Map<String, Object>> payouts) {
        Set<Address> parties = parties(id);
        List<Map<String, Object>> transfers = new ArrayList<>();
        for (TransferPart t : entry.transfers()) {
            Map<String, Object> part = new LinkedHashMap<>();
            part.put("transferId", t.transferId().toString());
            part.put("kind", t.kind());
            part.put("account", t.account() == null ? null : t.account().checksummed());
            part.put("amount", t.amount().toString());
            transfers.add(part);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("escrowId", id);
        data.put("action", entry.action().name());
        data.put("actor", entry.actor());
        data.put("rule", entry.rule());
        data.put("from", entry.from() == null ? null : entry.from().name());
        data.put("to", entry.to().name());
        data.put("transfers", transfers);
        if (entry.txHash() != null) {
            data.put("custody", "chain");
            data.put("txHash", entry.txHash());
            data.put("blockNumber", entry.blockNumber());
            data.put("payouts", payouts);
        }
        events.publishOnce(dedupeKey, eventType(entry.action()), parties, id, data);
    }

    /** The escrow's parties: payer, arbiter, evaluator and payees. */
    private Set<Address> parties(String id) {
        Set<Address> parties = new LinkedHashSet<>();
        jdbc.query("SELECT payer, arbiter, evaluator FROM backend.escrows WHERE id = ?", rs -> {
            parties.add(Address.of(rs.getString(1)));
            parties.add(Address.of(rs.getString(2)));
            if (rs.getString(3) != null) {
                parties.add(Address.of(rs.getString(3)));
            }
        }, id);
        jdbc.query("SELECT account FROM backend.escrow_payees WHERE escrow_id = ? ORDER BY idx",
                rs -> {
                    parties.add(Address.of(rs.getString(1)));
                }, id);
        return parties;
    }

    /**
     * Publishes to the parties that the chain event published under {@code retractedKey} (the entry's
     * transaction) no longer holds: its block left the chain ({@code escrow.retracted}), once per
     * {@code dedupeKey}.
     */
    void publishRetraction(String id, HistoryEntry entry, int generation, String dedupeKey, String retractedKey) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("escrowId", id);
        data.put("custody", "chain");
        data.put("retractedEventId", jdbc.queryForList("SELECT id::text FROM backend.events WHERE dedupe_key = ?",
                String.class, retractedKey).stream().findFirst().orElse(null));
        data.put("retractedType", eventType(entry.action()).wireName());
        data.put("action", entry.action().name());
        data.put("txHash", entry.txHash());
        data.put("blockNumber", entry.blockNumber());
        data.put("retraction", generation);
        events.publishOnce(dedupeKey, EventType.ESCROW_RETRACTED, parties(id), id, data);
    }

    static EventType eventType(EscrowAction action) {
        return switch (action) {
            case CREATED -> EventType.ESCROW_CREATED;
            case ACCEPTED -> EventType.ESCROW_ACCEPTED;
            case CANCELLED -> EventType.ESCROW_CANCELLED;
            case RELEASED -> EventType.ESCROW_RELEASED;
            case REFUNDED -> EventType.ESCROW_REFUNDED;
            case DISPUTED -> EventType.ESCROW_DISPUTED;
            case RESOLVED -> EventType.ESCROW_RESOLVED;
            case FALLBACK_APPLIED -> EventType.ESCROW_FALLBACK_APPLIED;
            case FUNDING_EXPIRED -> EventType.ESCROW_FUNDING_EXPIRED;
        };
    }

    /** The escrow's history, oldest first, with the transfers of each entry. */
    public List<HistoryEntry> history(String id) {
        Map<Integer, List<TransferPart>> transfers = new LinkedHashMap<>();
        jdbc.query("SELECT seq, transfer_id, kind, idx, account, amount, ledger_seq FROM backend.escrow_transfers"
                + " WHERE escrow_id = ? ORDER BY seq, ledger_seq, idx", rs -> {
                    String account = rs.getString(5);
                    transfers.computeIfAbsent(rs.getInt(1), k -> new ArrayList<>()).add(new TransferPart(
                            rs.getObject(2, UUID.class), rs.getString(3), rs.getInt(4),
                            account == null ? null : Address.of(account), big(rs, 6), rs.getLong(7)));
                }, id);
        return jdbc.query("SELECT seq, action, actor, rule, from_state, to_state, detail, occurred_at, tx_hash,"
                        + " block_number FROM backend.escrow_history WHERE escrow_id = ? ORDER BY seq",
                (rs, n) -> new HistoryEntry(rs.getInt(1), EscrowAction.valueOf(rs.getString(2)), rs.getString(3),
                        rs.getString(4), rs.getString(5) == null ? null : EscrowState.valueOf(rs.getString(5)),
                        EscrowState.valueOf(rs.getString(6)), rs.getString(7), instant(rs, 8),
                        transfers.getOrDefault(rs.getInt(1), List.of()), rs.getString(9), (Long) rs.getObject(10)), id);
    }

    /**
     * {@code party}'s escrows, newest first, before list position {@code before} (0: from the
     * newest), optionally only where it has {@code role} and only in {@code state}.
     */
    public List<Listed> list(Address party, EscrowRole role, EscrowState state, long before, int limit) {
        List<Object> args = new ArrayList<>();
        StringBuilder sql = new StringBuilder("SELECT ").append(COLUMNS)
                .append(" FROM backend.escrows e WHERE e.position IN (SELECT p.position FROM backend.escrow_parties p"
                        + " WHERE p.party = ?");
        args.add(party.hex());
        if (role != null) {
            sql.append(" AND p.role = ?");
            args.add(role.name());
        }
        if (before > 0) {
            sql.append(" AND p.position < ?");
            args.add(before);
        }
        sql.append(")");
        if (state != null) {
            sql.append(" AND e.state = ?");
            args.add(state.name());
        }
        sql.append(" ORDER BY e.position DESC LIMIT ?");
        args.add(limit);
        List<Listed> rows = jdbc.query(sql.toString(), (rs, n) -> row(rs, List.of()), args.toArray());
        Map<String, List<Escrow.Payee>> payees = payees(rows.stream().map(l -> l.escrow().id()).toList());
        return rows.stream().map(l -> new Listed(withPayees(l.escrow(), payees.getOrDefault(l.escrow().id(), List.of())),
                l.position())).toList();
    }

    /** Escrows the scheduler should act on: due before {@code until}, oldest first. */
    public List<String> due(Instant until, int limit) {
        return jdbc.queryForList("SELECT id FROM backend.escrows WHERE due_at < ? ORDER BY due_at LIMIT ?",
                String.class, ts(until), limit);
    }

    /** Escrows of either custody funded and not in a final state (a chain escrow counts once its funding is confirmed). */
    public long activeCount() {
        return jdbc.queryForObject("SELECT count(*) FROM backend.escrows WHERE state IN " + ACTIVE, Long.class);
    }

    private static final String ACTIVE = "('OPEN', 'FUNDED', 'DISPUTED')";

    /** What active escrows of either custody hold, per token (a chain escrow: what its contract events left in it). */
    public Map<Address, BigInteger> lockedByToken() {
        Map<Address, BigInteger> out = new LinkedHashMap<>();
        jdbc.query("SELECT token, sum(held) FROM backend.escrows WHERE state IN " + ACTIVE + " GROUP BY token",
                rs -> {
                    out.put(Address.of(rs.getString(1)), big(rs, 2));
                });
        return out;
    }

    private static Timestamp ts(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }

    private static BigDecimal dec(BigInteger value) {
        return new BigDecimal(value);
    }

    private static BigInteger big(ResultSet rs, int column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        return value == null ? null : value.toBigIntegerExact();
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp value = rs.getTimestamp(column);
        return value == null ? null : value.toInstant();
    }
}
