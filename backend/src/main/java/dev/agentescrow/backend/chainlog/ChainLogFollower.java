package dev.agentescrow.backend.chainlog;

import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ContractLogs;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Follows one contract's logs for one {@link ChainLogHandler}, reorganisation-safe, in the manner of
 * the batcher's {@code VaultIndexer}: a durable cursor (block number and hash), logs applied only
 * from blocks with {@code confirmations} blocks after them, at most {@code maxBlocksPerPoll} blocks
 * per poll, and a reorganisation found by hash and undone.
 *
 * <p>One {@link #poll()} is one database transaction that holds the follower's cursor row
 * ({@code FOR UPDATE SKIP LOCKED}: a concurrent poll, here or on another instance, skips):
 * <ol>
 *   <li>if the cursor's block is no longer the chain's block at its height, it walks the retained
 *       block hashes down to the newest block still on the chain (the fork point), lets the handler
 *       {@link ChainLogHandler#undo undo} everything from the block after it, moves the cursor there,
 *       and commits (a reorganisation deeper than the retained hashes rewinds to the start block);</li>
 *   <li>else it reads the logs of the next confirmed range, checks that the range's last block and
 *       the cursor's block are still the chain's afterwards (else it gives up this poll: the chain
 *       moved while it read), lets the handler {@link ChainLogHandler#apply apply} them, retains the
 *       hashes of their blocks and of the range's last block, and moves the cursor there, all in
 *       that one transaction.</li>
 * </ol>
 * So the handler's derived state and the cursor always agree, a crash anywhere is a poll that did not
 * happen, and a log is applied once per block it is canonical in. Not thread-safe (one scheduler
 * thread polls it); any number of instances may poll, the row lock lets one through.
 */
public final class ChainLogFollower {
    private static final Logger log = LoggerFactory.getLogger(ChainLogFollower.class);

    private final ChainClient client;
    private final ChainLogHandler handler;
    private final ContractLogs logs;
    private final ChainLogCursors cursors;
    private final TransactionTemplate tx;
    private final int confirmations;
    private final ChainLogSettings settings;

    /**
     * @param confirmations blocks after a block before its logs are applied (0: the head's own)
     */
    public ChainLogFollower(ChainClient client, ChainLogHandler handler, DataSource dataSource, Clock clock,
                            int confirmations, ChainLogSettings settings) {
        this.client = Objects.requireNonNull(client, "client");
        this.handler = Objects.requireNonNull(handler, "handler");
        if (!handler.name().matches("[a-z0-9][a-z0-9-]{0,63}")) {
            throw new IllegalArgumentException("a follower's name is lower-case letters, digits and dashes: "
                    + handler.name());
        }
        if (confirmations < 0) {
            throw new IllegalArgumentException("confirmations must not be negative: " + confirmations);
        }
        this.logs = new ContractLogs(client, handler.contract());
        this.cursors = new ChainLogCursors(new JdbcTemplate(dataSource), clock);
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.confirmations = confirmations;
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * What one poll did.
     *
     * @param outcome what happened
     * @param fromBlock first block read (or undone, for {@link Outcome#REWOUND})
     * @param toBlock last block read; for {@link Outcome#REWOUND} the fork point the cursor moved back to
     * @param applied logs applied
     */
    public record PollResult(Outcome outcome, long fromBlock, long toBlock, int applied) {
    }

    public enum Outcome {
        /** A range was applied (perhaps with no logs in it) and the cursor moved. */
        APPLIED,
        /** No new confirmed block. */
        UP_TO_DATE,
        /** A reorganisation was undone; the next poll reads the new chain. */
        REWOUND,
        /** The chain changed while reading (or another poll holds the cursor): nothing changed. */
        RETRY
    }

    public ChainLogHandler handler() {
        return handler;
    }

    /** The last block applied (before the start block while nothing was). */
    public long cursorBlock() {
        return cursors.read(handler.name()).map(ChainLogCursors.Cursor::blockNumber)
                .orElse(handler.startBlock() - 1);
    }

    public PollResult poll() {
        return tx.execute(status -> {
            Optional<ChainLogCursors.Cursor> locked = cursors.lock(handler.name(), handler.startBlock());
            if (locked.isEmpty()) {
                return new PollResult(Outcome.RETRY, 0, -1, 0);
            }
            ChainLogCursors.Cursor cursor = locked.get();
            long head = client.blockNumber();
            if (cursor.blockHash() != null && !onChain(cursor.blockNumber(), cursor.blockHash(), head)) {
                return rewind(cursor, head);
            }
            long from = cursor.blockNumber() + 1;
            long to = Math.min(head - confirmations, cursor.blockNumber() + settings.maxBlocksPerPoll());
            if (to < from) {
                return new PollResult(Outcome.UP_TO_DATE, from, to, 0);
            }
            Bytes32 toHash = client.blockHash(to);
            List<ChainLog> read = new ArrayList<>();
            for (var raw : logs.between(from, to, handler.topics().isEmpty() ? new String[0]
                    : new String[] {handler.topics().size() == 1 ? handler.topics().getFirst() : null})) {
                ChainLog chainLog = ChainLog.of(raw);
                if (handler.topics().size() > 1 && !handler.topics().contains(raw.getTopics().getFirst())) {
                    continue;
                }
                read.add(chainLog);
            }
            read.sort(Comparator.comparing(ChainLog::position, dev.agentescrow.chain.LogPosition.CHAIN_ORDER));
            // The range must be one chain from the cursor's block to its last block, as it was read.
            boolean consistent = read.stream().filter(l -> l.blockNumber() == to)
                    .allMatch(l -> l.position().blockHash().equals(toHash))
                    && (cursor.blockHash() == null || onChain(cursor.blockNumber(), cursor.blockHash(), head))
                    && client.blockHash(to).equals(toHash);
            if (!consistent) {
                log.info("follower {}: the chain changed while blocks {}..{} were read; reading again", handler.name(),
                        from, to);
                return new PollResult(Outcome.RETRY, from, to, 0);
            }
            handler.apply(List.copyOf(read));
            for (ChainLog l : read) {
                cursors.retain(handler.name(), l.blockNumber(), l.position().blockHash());
            }
            cursors.retain(handler.name(), to, toHash);
            cursors.pruneBelow(handler.name(), to - settings.retainedBlocks());
            cursors.move(handler.name(), new ChainLogCursors.Cursor(to, toHash));
            return new PollResult(Outcome.APPLIED, from, to, read.size());
        });
    }

    /** Undoes everything above the newest retained block still on the chain, and moves the cursor there. */
    private PollResult rewind(ChainLogCursors.Cursor cursor, long head) {
        ChainLogCursors.Cursor fork = new ChainLogCursors.Cursor(handler.startBlock() - 1, null);
        for (ChainLogCursors.Block block : cursors.retainedBelow(handler.name(), cursor.blockNumber())) {
            if (onChain(block.number(), block.hash(), head)) {
                fork = new ChainLogCursors.Cursor(block.number(), block.hash());
                break;
            }
        }
        if (fork.blockHash() == null) {
            log.error("follower {}: the chain no longer holds block {} ({}) nor any retained block below it: the"
                    + " reorganisation is deeper than {} blocks; undoing everything and reading again from block {}",
                    handler.name(), cursor.blockNumber(), cursor.blockHash(), settings.retainedBlocks(),
                    handler.startBlock());
        } else {
            log.warn("follower {}: block {} ({}) left the chain; undoing blocks {}..{}", handler.name(),
                    cursor.blockNumber(), cursor.blockHash(), fork.blockNumber() + 1, cursor.blockNumber());
        }
        long undoFrom = fork.blockNumber() + 1;
        handler.undo(undoFrom);
        cursors.forgetFrom(handler.name(), undoFrom);
        cursors.move(handler.name(), fork);
        return new PollResult(Outcome.REWOUND, undoFrom, fork.blockNumber(), 0);
    }

    private boolean onChain(long number, Bytes32 hash, long head) {
        if (number > head) {
            return false;
        }
        try {
            return client.blockHash(number).equals(hash);
        } catch (ChainException e) {
            if (client.blockNumber() < number) {
                return false;
            }
            throw e;
        }
    }
}
