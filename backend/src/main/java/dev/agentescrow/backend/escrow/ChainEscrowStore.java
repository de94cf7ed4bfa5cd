package dev.agentescrow.backend.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The chain part of chain escrows: where each lives on chain ({@code chain_escrows}) and the
 * contract's confirmed events about it ({@code chain_escrow_events}, once per tx hash and log index).
 */
@Component
public class ChainEscrowStore {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final JdbcTemplate jdbc;

    public ChainEscrowStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * A chain escrow's place on chain.
     *
     * @param chainEscrowId the contract's id: keccak256(abi.encode(payer, taskId))
     * @param permitDeadline until when the permit of its funding is valid
     */
    public record ChainInfo(String escrowId, Address contract, Bytes32 chainEscrowId, Bytes32 taskId,
                            Instant permitDeadline) {
    }

    /**
     * One confirmed event: its kind (the contract's event name) and fields as decimal strings or
     * addresses, where it was logged, and when the service first saw it.
     */
    public record ChainEvent(String txHash, long logIndex, long blockNumber, String kind, Map<String, String> data,
                             Instant seenAt) {
    }

    void insert(ChainInfo info) {
        jdbc.update("INSERT INTO backend.chain_escrows (escrow_id, contract, chain_escrow_id, task_id, permit_deadline)"
                        + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (escrow_id) DO NOTHING", info.escrowId(),
                info.contract().hex(), info.chainEscrowId().hex(), info.taskId().hex(),
                Timestamp.from(info.permitDeadline()));
    }

    public Optional<ChainInfo> find(String escrowId) {
        return load(List.of(escrowId)).values().stream().findFirst();
    }

    /** The chain part of those of {@code escrowIds} that are chain escrows. */
    public Map<String, ChainInfo> load(List<String> escrowIds) {
        Map<String, ChainInfo> out = new LinkedHashMap<>();
        if (escrowIds.isEmpty()) {
            return out;
        }
        jdbc.query("SELECT escrow_id, contract, chain_escrow_id, task_id, permit_deadline FROM backend.chain_escrows"
                + " WHERE escrow_id = ANY(?)", rs -> {
                    out.put(rs.getString(1), new ChainInfo(rs.getString(1), Address.of(rs.getString(2)),
                            Bytes32.fromHex(rs.getString(3)), Bytes32.fromHex(rs.getString(4)),
                            rs.getTimestamp(5).toInstant()));
                }, (Object) escrowIds.toArray(String[]::new));
        return out;
    }

    /** The service's escrow with this contract id, if the service prepared it. */
    Optional<String> escrowOf(Bytes32 chainEscrowId) {
        return jdbc.queryForList("SELECT escrow_id FROM backend.chain_escrows WHERE chain_escrow_id = ?", String.class,
                chainEscrowId.hex()).stream().findFirst();
    }

    /** Stores a confirmed event once; false if this (tx hash, log index) is stored already. */
    boolean addEvent(String escrowId, ChainEvent event, String blockHash) {
        return jdbc.update("INSERT INTO backend.chain_escrow_events (tx_hash, log_index, escrow_id, block_number,"
                        + " block_hash, kind, data, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (tx_hash, log_index) DO NOTHING", event.txHash(), event.logIndex(), escrowId,
                event.blockNumber(), blockHash, event.kind(), JSON.writeValueAsString(event.data()),
                Timestamp.from(event.seenAt())) == 1;
    }

    /** The escrow's events in chain order. */
    List<ChainEvent> events(String escrowId) {
        return jdbc.query("SELECT tx_hash, log_index, block_number, kind, data, seen_at FROM backend.chain_escrow_events"
                        + " WHERE escrow_id = ? ORDER BY block_number, log_index",
                (rs, n) -> new ChainEvent(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4),
                        JSON.readValue(rs.getString(5), new TypeReference<Map<String, String>>() { }),
                        rs.getTimestamp(6).toInstant()), escrowId);
    }

    /** Deletes the events of blocks from {@code fromBlock} on; returns the escrows they were about. */
    List<String> dropEventsFrom(long fromBlock) {
        return jdbc.queryForList("DELETE FROM backend.chain_escrow_events WHERE block_number >= ? RETURNING escrow_id",
                String.class, fromBlock).stream().distinct().toList();
    }

    /** Replaces the escrow's derived row, payees and history (its row must be locked by this transaction). */
    void replaceDerived(Escrow after) {
        jdbc.update("UPDATE backend.escrows SET state = ?, held = ?, fees_paid = ?, version = ?, fee_bps = ?,"
                        + " arbitration_deadline = ?, updated_at = ? WHERE id = ? AND custody = 'CHAIN'",
                after.state().name(), new java.math.BigDecimal(after.held()), new java.math.BigDecimal(after.feesPaid()),
                after.version(), after.feeBps(), ts(after.arbitrationDeadline()), ts(after.updatedAt()), after.id());
        for (Escrow.Payee p : after.payees()) {
            jdbc.update("UPDATE backend.escrow_payees SET released = ?, accepted_at = ? WHERE escrow_id = ? AND idx = ?",
                    new java.math.BigDecimal(p.released()), ts(p.acceptedAt()), after.id(), p.index());
        }
        jdbc.update("DELETE FROM backend.escrow_history WHERE escrow_id = ?", after.id());
    }

    /** When the service expired the pending escrow's funding, if it did. */
    Optional<Instant> fundingExpiredAt(String escrowId) {
        return jdbc.query("SELECT funding_expired_at FROM backend.chain_escrows WHERE escrow_id = ?"
                + " AND funding_expired_at IS NOT NULL", (rs, n) -> rs.getTimestamp(1).toInstant(), escrowId)
                .stream().findFirst();
    }

    /** Records that the pending escrow's funding expired; false if it was recorded already. */
    boolean expireFunding(String escrowId, Instant at) {
        return jdbc.update("UPDATE backend.chain_escrows SET funding_expired_at = ? WHERE escrow_id = ?"
                + " AND funding_expired_at IS NULL", Timestamp.from(at), escrowId) == 1;
    }

    /**
     * Chain escrows of {@code contract} in one of {@code states} whose {@code column} ({@code deadline}
     * or {@code arbitration_deadline}) is before {@code before}, oldest first.
     */
    List<String> due(Address contract, List<EscrowState> states, String column, Instant before, int limit) {
        if (!column.equals("deadline") && !column.equals("arbitration_deadline")) {
            throw new IllegalArgumentException(column);
        }
        return jdbc.queryForList("SELECT e.id FROM backend.escrows e JOIN backend.chain_escrows c ON c.escrow_id = e.id"
                        + " WHERE c.contract = ? AND e.custody = 'CHAIN' AND e.state = ANY(?) AND e." + column + " < ?"
                        + " ORDER BY e." + column + " LIMIT ?", String.class, contract.hex(),
                states.stream().map(Enum::name).toArray(String[]::new), Timestamp.from(before), limit);
    }

    /** How many times the published event of the escrow's transaction was retracted (0: never). */
    int generation(String escrowId, String txHash) {
        Integer n = jdbc.queryForObject("SELECT max(generation) FROM backend.chain_escrow_retractions"
                + " WHERE escrow_id = ? AND tx_hash = ?", Integer.class, escrowId, txHash);
        return n == null ? 0 : n;
    }

    /** Records one more retraction of the escrow's transaction; returns its generation (1 for the first). */
    int retract(String escrowId, String txHash, long blockNumber, Instant at) {
        int generation = generation(escrowId, txHash) + 1;
        jdbc.update("INSERT INTO backend.chain_escrow_retractions (escrow_id, tx_hash, generation, block_number,"
                + " retracted_at) VALUES (?, ?, ?, ?, ?)", escrowId, txHash, generation, blockNumber, Timestamp.from(at));
        return generation;
    }

    /** The escrows with events in blocks from {@code fromBlock} on. */
    List<String> escrowsWithEventsFrom(long fromBlock) {
        return jdbc.queryForList("SELECT DISTINCT escrow_id FROM backend.chain_escrow_events WHERE block_number >= ?",
                String.class, fromBlock);
    }

    private static Timestamp ts(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }
}
