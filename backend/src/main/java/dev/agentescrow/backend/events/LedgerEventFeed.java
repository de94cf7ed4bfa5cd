package dev.agentescrow.backend.events;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Turns the ledger's and settlement's facts into events, each exactly once: deposits the indexer
 * credited ({@code deposit.credited}) and the movements of confirmed batches
 * ({@code transfer.settled}, {@code withdrawal.paid}). Each poller keeps a durable cursor (the last
 * ledger seq, the last confirmed batch id) in {@code backend.event_cursors} and moves it in the same
 * transaction as the events it writes, holding the cursor's row locked ({@code FOR UPDATE SKIP
 * LOCKED}) so that one instance at a time polls. Every event also carries a dedupe key, so not
 * even a cursor set back could publish a fact twice.
 *
 * <p>It reads the batcher's tables ({@code transfers}, {@code accounts}, {@code settlement_batches},
 * {@code settlement_batch_movements}) read-only: the batcher's read API has no feed of new credits or
 * of a batch's movements yet.
 */
@Component
public class LedgerEventFeed {
    /** Ledger seqs looked through per deposit step (most transfers are not deposits). */
    static final long DEPOSIT_WINDOW = 5_000;
    /** Confirmed batches per settlement step. */
    static final int BATCHES_PER_STEP = 10;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final EventPublisher publisher;

    public LedgerEventFeed(JdbcTemplate jdbc, TransactionTemplate transactions, EventPublisher publisher) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.publisher = publisher;
    }

    /** Publishes deposits credited since the cursor; returns how many. */
    public int pollDeposits() {
        int total = 0;
        while (true) {
            Step step = transactions.execute(status -> depositStep());
            if (step == null) {
                return total;
            }
            total += step.published();
            if (!step.more()) {
                return total;
            }
        }
    }

    /** Publishes the movements of batches confirmed since the cursor; returns how many events. */
    public int pollSettlements() {
        int total = 0;
        while (true) {
            Step step = transactions.execute(status -> settlementStep());
            if (step == null) {
                return total;
            }
            total += step.published();
            if (!step.more()) {
                return total;
            }
        }
    }

    private record Step(int published, boolean more) {
    }

    private OptionalLong lockCursor(String name) {
        List<Long> position = jdbc.queryForList(
                "SELECT position FROM backend.event_cursors WHERE name = ? FOR UPDATE SKIP LOCKED", Long.class, name);
        return position.isEmpty() ? OptionalLong.empty() : OptionalLong.of(position.getFirst());
    }

    private void moveCursor(String name, long position) {
        jdbc.update("UPDATE backend.event_cursors SET position = ? WHERE name = ?", position, name);
    }

    private Step depositStep() {
        OptionalLong cursor = lockCursor("deposits");
        if (cursor.isEmpty()) {
            return null;
        }
        long from = cursor.getAsLong();
        Long last = jdbc.queryForObject("SELECT coalesce(max(seq), 0) FROM public.transfers", Long.class);
        long to = Math.min(last == null ? 0 : last, from + DEPOSIT_WINDOW);
        if (to <= from) {
            return null;
        }
        record Credit(UUID transferId, long seq, String token, BigInteger amount, String owner, String reference) {
        }
        List<Credit> credits = jdbc.query("""
                SELECT t.id, t.seq, t.token, t.amount, c.owner, p.reference
                FROM public.transfers t
                JOIN public.accounts d ON d.id = t.debit_account_id AND d.kind = 'CUSTODY'
                JOIN public.accounts c ON c.id = t.credit_account_id AND c.kind = 'USER'
                LEFT JOIN public.transfers p ON p.id = t.pending_id
                WHERE t.seq > ? AND t.seq <= ? AND t.kind IN ('POST', 'SINGLE')
                ORDER BY t.seq""", (rs, n) -> new Credit(rs.getObject(1, UUID.class), rs.getLong(2), rs.getString(3),
                rs.getBigDecimal(4).toBigIntegerExact(), rs.getString(5), rs.getString(6)), from, to);
        for (Credit credit : credits) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("account", Address.of(credit.owner()).checksummed());
            data.put("token", Address.of(credit.token()).checksummed());
            data.put("amount", credit.amount().toString());
            data.put("ledgerTransferId", credit.transferId().toString());
            String objectId = credit.transferId().toString();
            String[] onChain = credit.reference() == null ? new String[0] : credit.reference().split(":");
            if (onChain.length == 3 && "deposit".equals(onChain[0])) {
                data.put("txHash", onChain[1]);
                data.put("logIndex", Long.parseLong(onChain[2]));
                objectId = onChain[1] + ":" + onChain[2];
            }
            publisher.publishOnce("deposit.credited:" + credit.transferId(), EventType.DEPOSIT_CREDITED,
                    List.of(Address.of(credit.owner())), objectId, data);
        }
        moveCursor("deposits", to);
        return new Step(credits.size(), to < (last == null ? 0 : last));
    }

    private Step settlementStep() {
        OptionalLong cursor = lockCursor("settlements");
        if (cursor.isEmpty()) {
            return null;
        }
        record Batch(long batchId, long rowId, String txHash, long block) {
        }
        List<Batch> batches = jdbc.query("""
                SELECT batch_id, row_id, confirmed_tx_hash, confirmed_block FROM public.settlement_batches
                WHERE state = 'CONFIRMED' AND batch_id > ? ORDER BY batch_id LIMIT ?""",
                (rs, n) -> new Batch(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4)),
                cursor.getAsLong(), BATCHES_PER_STEP);
        if (batches.isEmpty()) {
            return null;
        }
        int published = 0;
        for (Batch batch : batches) {
            published += publishMovements(batch.batchId(), batch.rowId(), batch.txHash(), batch.block());
        }
        moveCursor("settlements", batches.getLast().batchId());
        return new Step(published, batches.size() == BATCHES_PER_STEP);
    }

    private int publishMovements(long batchId, long rowId, String txHash, long block) {
        record Movement(UUID id, String kind, String token, BigInteger amount, String debitOwner, String creditOwner,
                        String from, String to) {
        }
        List<Movement> movements = jdbc.query("""
                SELECT m.transfer_id, m.kind, m.token, m.amount, d.owner, c.owner, m.from_address, m.to_address
                FROM public.settlement_batch_movements m
                LEFT JOIN public.transfers t ON t.id = m.transfer_id
                LEFT JOIN public.accounts d ON d.id = t.debit_account_id
                LEFT JOIN public.accounts c ON c.id = t.credit_account_id
                WHERE m.batch_row_id = ? AND NOT m.reverted ORDER BY m.position""",
                (rs, n) -> new Movement(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                        rs.getBigDecimal(4).toBigIntegerExact(), rs.getString(5), rs.getString(6), rs.getString(7),
                        rs.getString(8)), rowId);
        int published = 0;
        for (Movement movement : movements) {
            Set<Address> recipients = new LinkedHashSet<>();
            boolean withdrawal = "WITHDRAWAL".equals(movement.kind());
            if (movement.debitOwner() != null) {
                recipients.add(Address.of(movement.debitOwner()));
            }
            if (!withdrawal && movement.creditOwner() != null) {
                recipients.add(Address.of(movement.creditOwner()));
            }
            if (recipients.isEmpty()) {
                continue;
            }
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("id", movement.id().toString());
            data.put("token", Address.of(movement.token()).checksummed());
            data.put("amount", movement.amount().toString());
            if (withdrawal) {
                data.put("owner", Address.of(movement.debitOwner() != null ? movement.debitOwner() : movement.from())
                        .checksummed());
                data.put("recipient", Address.of(movement.to()).checksummed());
            } else {
                data.put("from", Address.of(movement.from()).checksummed());
                data.put("to", Address.of(movement.to()).checksummed());
            }
            data.put("batchId", batchId);
            data.put("txHash", txHash);
            data.put("blockNumber", block);
            EventType type = withdrawal ? EventType.WITHDRAWAL_PAID : EventType.TRANSFER_SETTLED;
            publisher.publishOnce(type.wireName() + ":" + movement.id(), type, new ArrayList<>(recipients),
                    movement.id().toString(), data);
            published++;
        }
        return published;
    }
}
