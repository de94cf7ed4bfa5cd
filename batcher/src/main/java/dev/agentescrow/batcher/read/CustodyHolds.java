package dev.agentescrow.batcher.read;

import java.util.List;
import java.util.OptionalLong;

/**
 * An account's custody bookings, newest block first, and the indexer's checkpoint: every custody
 * event in a block up to {@code checkpointBlock} is booked and final (POSTED or REJECTED), so events
 * the chain shows after it may not be booked yet.
 *
 * @param checkpointBlock the last block whose custody events are final; empty before the first poll
 */
public record CustodyHolds(List<CustodyHoldView> holds, OptionalLong checkpointBlock) {
    public CustodyHolds {
        holds = List.copyOf(holds);
    }
}
