package dev.agentescrow.backend.withdrawal;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.web.CreatedCursor;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.BatchView;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.gateway.SettlementGateway;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.batcher.read.TransferView;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.TxHash;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Withdrawals: the amount leaves the caller's account at once (a ledger transfer to PAYOUTS with the
 * withdrawal's id) and the next settlement batch pays it on chain. The service keeps its own list
 * of the withdrawals asked for through the API (to list and authorise them); their state comes
 * from settlement.
 */
@Component
public class Withdrawals {
    private final LedgerGateway ledger;
    private final SettlementGateway settlement;
    private final ChainGateway chain;
    private final JdbcTemplate jdbc;
    private final AuditLog audit;
    private final Clock clock;
    /** PAID is final: those statuses are kept after the first read. */
    private final java.util.Map<UUID, Status> paid = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_CACHED_PAID = 100_000;

    public Withdrawals(LedgerGateway ledger, SettlementGateway settlement, ChainGateway chain, JdbcTemplate jdbc,
                       AuditLog audit, Clock clock) {
        this.ledger = ledger;
        this.settlement = settlement;
        this.chain = chain;
        this.jdbc = jdbc;
        this.audit = audit;
        this.clock = clock;
    }

    public enum State { REQUESTED, BATCHED, PAID, CLAIMABLE }

    public record Withdrawal(UUID id, Address owner, Address token, BigInteger amount, Instant createdAt) {
        /** Where it sorts in its owner's list. */
        public CreatedCursor.Position position() {
            return new CreatedCursor.Position(createdAt, id);
        }
    }

    /** @param sequence the ledger position of its debit (pass as X-Min-Sequence to read it back anywhere) */
    public record Status(Withdrawal withdrawal, State state, Long batchId, TxHash txHash, long sequence) {
    }

    /**
     * Debits the owner's own account (the agents' command layer); the receipt says whether it is
     * committed (now or by an earlier replay) and at which sequence.
     */
    public TransferReceipt request(TransferId id, Address owner, Address token, BigInteger amount) {
        TransferReceipt receipt = ledger.withdraw(owner, id, token, amount);
        if (receipt.committed()) {
            int inserted = jdbc.update("INSERT INTO backend.withdrawals (id, owner, token, amount, created_at)"
                    + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", id.toUuid(), owner.hex(), token.hex(),
                    new BigDecimal(amount), Timestamp.from(clock.instant()));
            if (inserted == 1) {
                audit.record(owner.hex(), "WITHDRAWAL_REQUESTED", "withdrawal", id.toUuid().toString(), token.hex(), amount);
            }
        }
        return receipt;
    }

    public Optional<Withdrawal> find(UUID id) {
        return jdbc.query("SELECT id, owner, token, amount, created_at FROM backend.withdrawals WHERE id = ?",
                (rs, n) -> new Withdrawal(rs.getObject(1, UUID.class), Address.of(rs.getString(2)),
                        Address.of(rs.getString(3)), rs.getBigDecimal(4).toBigIntegerExact(),
                        rs.getTimestamp(5).toInstant()), id).stream().findFirst();
    }

    /** {@code owner}'s withdrawals, newest first, at most {@code limit}, below {@code before} when given. */
    public List<Withdrawal> of(Address owner, Optional<CreatedCursor.Position> before, int limit) {
        List<Object> args = new ArrayList<>(List.of(owner.hex()));
        before.ifPresent(p -> {
            args.add(Timestamp.from(p.createdAt()));
            args.add(p.id());
        });
        args.add(limit);
        return jdbc.query("SELECT id, owner, token, amount, created_at FROM backend.withdrawals WHERE owner = ?"
                        + (before.isPresent() ? " AND (created_at, id) < (?, ?)" : "")
                        + " ORDER BY created_at DESC, id DESC LIMIT ?",
                (rs, n) -> new Withdrawal(rs.getObject(1, UUID.class), Address.of(rs.getString(2)),
                        Address.of(rs.getString(3)), rs.getBigDecimal(4).toBigIntegerExact(),
                        rs.getTimestamp(5).toInstant()), args.toArray());
    }

    /**
     * Where the withdrawal is: REQUESTED (debited, not in a batch), BATCHED, PAID (its batch is
     * confirmed), or CLAIMABLE (confirmed, but the vault deferred payouts to the owner, who claims
     * them on chain with {@code claimPayout}).
     */
    public Status status(Withdrawal withdrawal) {
        return status(withdrawal, 0);
    }

    /** As {@link #status(Withdrawal)}, once the ledger includes {@code minSequence} (else NOT_YET, thrown by the caller). */
    public Status status(Withdrawal withdrawal, long minSequence) {
        Status known = paid.get(withdrawal.id());
        if (known != null) {
            return known;
        }
        Status status = currentStatus(withdrawal, minSequence);
        if (status.state() == State.PAID) {
            if (paid.size() > MAX_CACHED_PAID) {
                paid.clear();
            }
            paid.put(withdrawal.id(), status);
        }
        return status;
    }

    private Status currentStatus(Withdrawal withdrawal, long minSequence) {
        Read<TransferView> read = ledger.transfer(TransferId.of(withdrawal.id()), minSequence);
        TransferView view = dev.agentescrow.backend.common.web.MinSequence.require(read)
                .orElseThrow(() -> new IllegalStateException("withdrawal " + withdrawal.id() + " has no ledger transfer"));
        long sequence = view.transfer().seq();
        Long batchId = view.batchId().isPresent() ? view.batchId().getAsLong() : null;
        return switch (view.state()) {
            case COMMITTED, QUARANTINED -> new Status(withdrawal, State.REQUESTED, null, null, sequence);
            case BATCHED -> new Status(withdrawal, State.BATCHED, batchId, null, sequence);
            case SETTLED -> {
                boolean deferred = chain.pendingPayout(withdrawal.token(), withdrawal.owner()).baseUnits().signum() > 0;
                TxHash tx = batchId == null ? null : settlement.batch(batchId).map(BatchView::txHash).orElse(null);
                yield new Status(withdrawal, deferred ? State.CLAIMABLE : State.PAID, batchId, tx, sequence);
            }
        };
    }
}
