package dev.agentescrow.batcher.db;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A check that this process may still write, run inside each write transaction just before it
 * commits, on that transaction's connection: when it passes, the transaction holds a lock that
 * keeps a new leader from taking over until it commits; when it fails it throws
 * {@link FencedException} and the caller rolls back. The leadership's epoch implements it
 * ({@code leadership.EpochFence}); {@link #NONE} is for a ledger that runs alone and relies on its
 * own writer lock.
 */
public interface WriteFence {
    /** No check: the writer's session advisory lock alone keeps other writers out. */
    WriteFence NONE = new WriteFence() {
        @Override
        public void check(Connection connection) {
            // A ledger without leadership has nothing to check: its writer lock stands alone.
        }

        @Override
        public String toString() {
            return "no fence";
        }
    };

    /**
     * Checks in the caller's open transaction on {@code connection} that this process still holds
     * the right to write.
     *
     * @throws FencedException when another process has taken over; the caller must roll back
     * @throws SQLException when the database cannot be asked (nothing may commit then either)
     */
    void check(Connection connection) throws SQLException;
}
