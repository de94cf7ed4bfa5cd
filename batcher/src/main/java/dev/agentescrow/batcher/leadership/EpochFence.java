package dev.agentescrow.batcher.leadership;

import dev.agentescrow.batcher.db.FencedException;
import dev.agentescrow.batcher.db.WriteFence;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * The fence of one leader's term: a write transaction commits only while the {@code leadership}
 * row still holds the epoch this process was elected with. The check locks the row
 * {@code FOR KEY SHARE} until the transaction ends; a takeover locks it {@code FOR UPDATE} before
 * it increments the epoch, so it waits for every write that passed the check, and every check
 * after it sees the new epoch and refuses. One indexed row read per transaction; the leader's own
 * heartbeat (a non-key update) never waits for it.
 */
public final class EpochFence implements WriteFence {
    static final String CHECK = "SELECT 1 FROM leadership WHERE id = 1 AND epoch = ? FOR KEY SHARE";

    private final long epoch;
    private final LongConsumer onRefused;

    /**
     * @param epoch the epoch this process was elected with
     * @param onRefused told the epoch when a check refuses (the election steps down)
     */
    public EpochFence(long epoch, LongConsumer onRefused) {
        this.epoch = epoch;
        this.onRefused = Objects.requireNonNull(onRefused, "onRefused");
    }

    public long epoch() {
        return epoch;
    }

    @Override
    public void check(Connection connection) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement(CHECK)) {
            s.setLong(1, epoch);
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        onRefused.accept(epoch);
        throw new FencedException(epoch);
    }

    @Override
    public String toString() {
        return "epoch " + epoch;
    }
}
