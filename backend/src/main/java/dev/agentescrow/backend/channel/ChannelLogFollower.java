package dev.agentescrow.backend.channel;

import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.channel.ChannelEvent;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A minimal reorg-safe follower of the PaymentChannels logs, local to the channels feature until
 * the service's shared contract-log follower ({@code chainlog}) replaces it: TO BE UNIFIED with it.
 *
 * <p>Each {@link #poll} runs in one database transaction that holds the cursor row locked (one
 * follower at a time on any instance). It first checks that the cursor's block is still on the
 * chain (its hash); if not, it walks back over the stored events' blocks to the newest one whose
 * hash still matches, tells the handler to forget what came after, and rewinds. Then it reads the
 * logs up to {@code head - confirmations} (at most {@code maxBlocks} blocks), hands them to the
 * handler and moves the cursor to the last block read, with that block's hash.
 */
@Component
public class ChannelLogFollower {
    static final String CURSOR = "channels";
    /** How many stored event blocks a reorganisation check walks back over at most. */
    private static final int MAX_REWIND_BLOCKS = 1_000;

    private final ChainClient client;
    private final PaymentChannelsGateway gateway;
    private final ChannelStore store;
    private final ChannelSettings settings;
    private final TransactionTemplate tx;

    public ChannelLogFollower(ChainClient client, PaymentChannelsGateway gateway, ChannelStore store,
                              ChannelSettings settings, DataSource dataSource) {
        this.client = client;
        this.gateway = gateway;
        this.store = store;
        this.settings = settings;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** Reads what is confirmed since the last poll into {@code handler}; the number of events delivered. */
    public int poll(ChannelEventsHandler handler, int confirmations) {
        Integer delivered = tx.execute(status -> {
            Optional<ChannelStore.Cursor> locked = store.lockCursor(CURSOR);
            if (locked.isEmpty()) {
                store.moveCursor(CURSOR, null, settings.deploymentBlock() - 1, null);
                locked = store.lockCursor(CURSOR);
            }
            ChannelStore.Cursor cursor = locked.orElseThrow();
            long from = cursor.block();
            if (cursor.hash() != null && !cursor.hash().equals(safeHash(cursor.block()))) {
                long common = commonAncestor(cursor.block());
                handler.revertedAfter(common);
                from = common;
            }
            long target = client.blockNumber() - confirmations;
            long to = Math.min(target, from + settings.maxBlocksPerPoll());
            if (to <= from) {
                if (from != cursor.block()) {
                    store.moveCursor(CURSOR, cursor.block(), from, from < 0 ? null : client.blockHash(from));
                }
                return 0;
            }
            List<ChannelEvent> events = gateway.events(from + 1, to);
            handler.arrived(events);
            store.moveCursor(CURSOR, cursor.block(), to, client.blockHash(to));
            return events.size();
        });
        return delivered == null ? 0 : delivered;
    }

    /** The newest block at or below {@code block} whose stored events' hash the chain still has. */
    private long commonAncestor(long block) {
        for (ChannelStore.Cursor stored : store.eventBlocksAtOrBelow(block, MAX_REWIND_BLOCKS)) {
            Bytes32 onChain = safeHash(stored.block());
            if (stored.hash().equals(onChain)) {
                return stored.block();
            }
        }
        return settings.deploymentBlock() - 1;
    }

    private Bytes32 safeHash(long block) {
        try {
            return client.blockHash(block);
        } catch (RuntimeException missing) {
            return null;
        }
    }
}
