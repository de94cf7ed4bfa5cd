package dev.agentescrow.backend.common.db;

import java.math.BigDecimal;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Running totals for gauges that would otherwise count or sum whole tables ({@code backend.metric_totals}).
 * Row triggers on the counted tables write what each change adds to or takes from each metric into
 * {@code backend.metric_deltas} (insert only, so writers never wait on a shared counter row);
 * {@link #read} folds the committed deltas into the totals, one instance at a time under an
 * advisory lock, and answers the totals plus the deltas not folded yet: the same sum on every
 * instance, a few rows however long the history. Each metric's rule is a contribution function
 * per table in SQL (migrations {@code V18_2}, {@code V18_3}), used by the trigger and the backfill.
 */
@Component
public class RunningTotals {
    /** The advisory lock of the fold ("mktsum" in ASCII). */
    static final long FOLD_LOCK_KEY = 0x6d6b7473756dL;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;

    public RunningTotals(JdbcTemplate jdbc, TransactionTemplate transactions) {
        this.jdbc = jdbc;
        this.transactions = transactions;
    }

    /** One metric's total under its keys ({@code ""} where a metric has fewer). */
    public record Total(String metric, String key1, String key2, BigDecimal value) {
    }

    /** The totals of {@code metrics}, folded first (by this instance if no other is folding). */
    public List<Total> read(List<String> metrics) {
        String names = "{" + String.join(",", metrics) + "}";
        return transactions.execute(status -> {
            Boolean locked = jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, FOLD_LOCK_KEY);
            if (Boolean.TRUE.equals(locked)) {
                jdbc.update("""
                        WITH folded AS (DELETE FROM backend.metric_deltas RETURNING metric, key1, key2, delta)
                        INSERT INTO backend.metric_totals AS t (metric, key1, key2, value)
                        SELECT metric, key1, key2, sum(delta) FROM folded GROUP BY metric, key1, key2
                        ON CONFLICT (metric, key1, key2) DO UPDATE SET value = t.value + EXCLUDED.value""");
            }
            return jdbc.query("""
                    SELECT metric, key1, key2, sum(value) FROM (
                        SELECT metric, key1, key2, value FROM backend.metric_totals
                        UNION ALL SELECT metric, key1, key2, delta FROM backend.metric_deltas) x
                    WHERE metric = ANY (CAST(? AS VARCHAR[]))
                    GROUP BY metric, key1, key2 ORDER BY metric, key1, key2""",
                    (rs, n) -> new Total(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBigDecimal(4)), names);
        });
    }
}
