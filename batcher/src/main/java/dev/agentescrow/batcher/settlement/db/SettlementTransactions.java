package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.db.WriteFence;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * One database transaction per settlement store call. A transaction that changes settlement state
 * checks the {@link WriteFence} (a batcher's leadership epoch) just before it commits, so a deposed
 * leader never changes a batch, a claim, the quarantine or the watermark.
 */
final class SettlementTransactions {
    @FunctionalInterface
    interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private final DataSource dataSource;
    private final WriteFence fence;

    SettlementTransactions(DataSource dataSource, WriteFence fence) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.fence = Objects.requireNonNull(fence, "fence");
    }

    <T> T read(String what, Work<T> work) {
        return run(what, work, false);
    }

    /** A transaction that changes settlement state: it commits only if the fence passes just before. */
    <T> T write(String what, Work<T> work) {
        return run(what, work, true);
    }

    private <T> T run(String what, Work<T> work, boolean write) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                if (write) {
                    fence.check(c);
                }
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not " + what, e);
        }
    }
}
