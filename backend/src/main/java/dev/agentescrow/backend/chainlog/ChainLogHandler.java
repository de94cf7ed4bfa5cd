package dev.agentescrow.backend.chainlog;

import dev.agentescrow.chain.Address;
import java.util.List;

/**
 * What a feature plugs into the contract-log follower: which contract to follow, and how to apply
 * and undo what it derives from the contract's logs. Register a Spring bean implementing it and
 * {@link ChainLogs} runs a {@link ChainLogFollower} for it on the ledger's leader.
 *
 * <p>Both {@link #apply} and {@link #undo} run inside the follower's database transaction, the one
 * that also moves the follower's cursor: write with the service's {@code JdbcTemplate} (it joins that
 * transaction) and do not send transactions or call out; a failure rolls back the logs and the cursor
 * together, and the same range is offered again at the next poll.
 */
public interface ChainLogHandler {
    /** The follower's name, its cursor's key: lower-case letters, digits and dashes, unique, never changed. */
    String name();

    /** The contract whose logs are followed. */
    Address contract();

    /** The first block to read when the follower has no cursor yet (the contract's deployment block). */
    default long startBlock() {
        return 0;
    }

    /** Event signatures ({@code topic0}) to read; empty: every log of the contract. */
    default List<String> topics() {
        return List.of();
    }

    /**
     * Applies the logs of the next confirmed block range, in chain order (possibly none: the range
     * had no logs). Every block is above everything applied before and still on the chain.
     */
    void apply(List<ChainLog> logs);

    /**
     * A reorganisation dropped every block from {@code fromBlock} on: remove or reverse everything
     * derived from logs of those blocks. Their logs that are still on the new chain are applied again
     * afterwards, so effects outside the database (events published) should be keyed by
     * {@link ChainLog#key()} to happen once.
     */
    void undo(long fromBlock);
}
