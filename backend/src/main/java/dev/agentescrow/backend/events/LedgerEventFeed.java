package dev.agentescrow.backend.events;

import dev.agentescrow.batcher.read.FeedReads;
import dev.agentescrow.batcher.read.FeedReads.BatchMovement;
import dev.agentescrow.batcher.read.FeedReads.ConfirmedBatch;
import dev.agentescrow.batcher.read.FeedReads.DepositCredit;
import dev.agentescrow.batcher.read.FeedReads.OnChainDeposit;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
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
 * <p>It reads the batcher only through its read API ({@link FeedReads}, from {@link Batcher#feedReads()});
 * its own SQL touches only the service's schema {@code backend}.
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
    private final FeedReads feed;

    public LedgerEventFeed(JdbcTemplate jdbc, TransactionTemplate transactions, EventPublisher publisher,
                           Batcher batcher) {
        this.feed = batcher.feedReads();
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
        long last = feed.lastSeq();
        long to = Math.min(last, from + DEPOSIT_WINDOW);
        if (to <= from) {
            return null;
        }
        List<DepositCredit> credits = feed.creditedDepositsAfter(from, to, (int) DEPOSIT_WINDOW);
        for (DepositCredit credit : credits) {
            String transferId = credit.transferId().toUuid().toString();
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("account", credit.account().checksummed());
            data.put("token", credit.token().checksummed());
            data.put("amount", credit.amount().toString());
            data.put("ledgerTransferId", transferId);
            String objectId = transferId;
            if (credit.onChain().isPresent()) {
                OnChainDeposit onChain = credit.onChain().get();
                data.put("txHash", onChain.txHash());
                data.put("logIndex", onChain.logIndex());
                objectId = onChain.txHash() + ":" + onChain.logIndex();
            }
            publisher.publishOnce("deposit.credited:" + transferId, EventType.DEPOSIT_CREDITED,
                    List.of(credit.account()), objectId, data);
        }
        long reached = credits.size() == DEPOSIT_WINDOW ? credits.getLast().seq() : to;
        moveCursor("deposits", reached);
        return new Step(credits.size(), reached < last);
    }

    private Step settlementStep() {
        OptionalLong cursor = lockCursor("settlements");
        if (cursor.isEmpty()) {
            return null;
        }
        List<ConfirmedBatch> batches = feed.confirmedBatchesAfter(cursor.getAsLong(), BATCHES_PER_STEP);
        if (batches.isEmpty()) {
            return null;
        }
        int published = 0;
        for (ConfirmedBatch batch : batches) {
            published += publishMovements(batch);
        }
        moveCursor("settlements", batches.getLast().batchId());
        return new Step(published, batches.size() == BATCHES_PER_STEP);
    }

    private int publishMovements(ConfirmedBatch batch) {
        List<EventPublisher.Publication> events = new ArrayList<>();
        for (BatchMovement movement : feed.movementsOf(batch)) {
            Set<Address> recipients = new LinkedHashSet<>();
            boolean withdrawal = movement.kind() == BatchMovement.Kind.WITHDRAWAL;
            movement.debitOwner().ifPresent(recipients::add);
            if (!withdrawal) {
                movement.creditOwner().ifPresent(recipients::add);
            }
            if (recipients.isEmpty()) {
                continue;
            }
            String id = movement.transferId().toUuid().toString();
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("id", id);
            data.put("token", movement.token().checksummed());
            data.put("amount", movement.amount().toString());
            if (withdrawal) {
                data.put("owner", movement.debitOwner().orElse(movement.from()).checksummed());
                data.put("recipient", movement.to().checksummed());
            } else {
                data.put("from", movement.from().checksummed());
                data.put("to", movement.to().checksummed());
            }
            data.put("batchId", batch.batchId());
            data.put("txHash", batch.txHash());
            data.put("blockNumber", batch.blockNumber());
            EventType type = withdrawal ? EventType.WITHDRAWAL_PAID : EventType.TRANSFER_SETTLED;
            events.add(new EventPublisher.Publication(type.wireName() + ":" + id, type, new ArrayList<>(recipients), id,
                    data));
        }
        // one JDBC batch for the whole settled batch (hundreds of movements), not a round trip each
        publisher.publishAllOnce(events);
        return events.size();
    }
}
