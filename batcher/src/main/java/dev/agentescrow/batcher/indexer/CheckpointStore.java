package dev.agentescrow.batcher.indexer;

import java.util.Optional;

/** Durable storage of an indexer's checkpoint, one per named event stream. */
public interface CheckpointStore {
    Optional<IndexerCheckpoint> load(String stream);

    /** Stores the checkpoint durably before returning. */
    void save(String stream, IndexerCheckpoint checkpoint);
}
