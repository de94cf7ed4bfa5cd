package dev.agentescrow.batcher.leadership;

/** What a batcher process does on its database right now. */
public enum Role {
    /** Holds the writer lock and the current epoch: runs the ledger writer, indexer, submitter, expiry and reconciler. */
    LEADER,
    /** Waits for the writer lock; serves nothing that needs the writer. */
    STANDBY
}
