package dev.agentescrow.batcher.indexer;

import java.util.List;
import java.util.Optional;

/**
 * Durable storage of an indexer's state, per named event stream: its checkpoint (the last final
 * block) and its custody holds (the bookings of events above the checkpoint, and the history of
 * every booking, so that a re-mined event is booked once).
 */
public interface CheckpointStore {
    Optional<IndexerCheckpoint> load(String stream);

    /** Stores the checkpoint durably before returning. */
    void save(String stream, IndexerCheckpoint checkpoint);

    /** The hold of {@code key} that still stands (not voided), if any: at most one. */
    Optional<CustodyHold> liveHold(String stream, CustodyEvent.Key key);

    /** How many holds {@code key} has had, voided ones included: the next one's incarnation. */
    int holdCount(String stream, CustodyEvent.Key key);

    /**
     * Inserts the hold or updates its state, durably before returning. Refuses (throws) a second live
     * hold of one key.
     */
    void saveHold(String stream, CustodyHold hold);

    /**
     * The holds whose block may still leave the chain: every PENDING hold, and the REJECTED ones
     * above {@code finalBlock}; in chain order.
     */
    List<CustodyHold> openHolds(String stream, long finalBlock);
}
