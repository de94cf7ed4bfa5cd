package dev.agentescrow.batcher.read;

import dev.agentescrow.chain.TxHash;
import java.util.Comparator;
import java.util.Objects;

/**
 * Where a custody booking sorts in an account's list, newest first: its block, its log index in
 * that block, then its transaction hash (which parts two bookings of one fork-abandoned and one
 * canonical block at the same position). Within one chain (block, log index) names one event; one
 * event has one key per block it was mined in.
 */
public record CustodyHoldKey(long blockNumber, long logIndex, TxHash txHash) implements Comparable<CustodyHoldKey> {
    private static final Comparator<CustodyHoldKey> ORDER = Comparator.comparingLong(CustodyHoldKey::blockNumber)
            .thenComparingLong(CustodyHoldKey::logIndex)
            .thenComparing(key -> key.txHash().value());

    public CustodyHoldKey {
        Objects.requireNonNull(txHash, "txHash");
        if (blockNumber < 0 || logIndex < 0) {
            throw new IllegalArgumentException("block number and log index must not be negative");
        }
    }

    /** The key of one booking. */
    public static CustodyHoldKey of(CustodyHoldView hold) {
        return new CustodyHoldKey(hold.blockNumber(), hold.logIndex(), hold.txHash());
    }

    /** Ascending order (lists show them descending). */
    @Override
    public int compareTo(CustodyHoldKey other) {
        return ORDER.compare(this, other);
    }
}
