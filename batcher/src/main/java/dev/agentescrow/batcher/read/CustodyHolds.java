package dev.agentescrow.batcher.read;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * An account's custody bookings, newest block first, and the indexer's checkpoint: every custody
 * event in a block up to {@code checkpointBlock} is booked and final (POSTED or REJECTED), so events
 * the chain shows after it may not be booked yet.
 *
 * <p>A page ({@link LedgerReads#custodyHolds(dev.agentescrow.chain.Address,
 * dev.agentescrow.batcher.indexer.CustodyEvent.Kind, Optional, int)}) holds the bookings of its key
 * range and every other booking of the same events (their other blocks), so that a reader sees each
 * event of the range whole.
 *
 * @param checkpointBlock the last block whose custody events are final; empty before the first poll
 * @param cut             the key of the last booking of the range when the page was full: bookings
 *                        below it (and so events whose bookings all lie below it) may be missing;
 *                        empty when the range was read to its end
 */
public record CustodyHolds(List<CustodyHoldView> holds, OptionalLong checkpointBlock, Optional<CustodyHoldKey> cut) {
    public CustodyHolds {
        holds = List.copyOf(holds);
    }

    public CustodyHolds(List<CustodyHoldView> holds, OptionalLong checkpointBlock) {
        this(holds, checkpointBlock, Optional.empty());
    }
}
