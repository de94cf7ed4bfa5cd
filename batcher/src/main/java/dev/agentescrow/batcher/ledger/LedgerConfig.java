package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.db.DatabaseConfig;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a ledger.
 *
 * @param database             where the ledger's PostgreSQL is (embedded when no JDBC URL)
 * @param queueCapacity        submissions waiting for the writer; beyond it submit fails fast
 * @param maxGroupSize         transfers committed together in one database transaction
 * @param maxSubmissionSize    transfers in one submission (a linked group fits in one)
 * @param maxTimeoutSeconds    longest hold a pending transfer may ask for
 * @param enqueueTimeout       how long a submitter waits for queue space before failing
 * @param advisoryLockKey      PostgreSQL advisory lock that makes the writer the only one
 * @param checkpointEveryGroups  write the touched accounts' totals every this many groups
 * @param checkpointMaxAccounts  or as soon as this many accounts were touched since the last one
 */
public record LedgerConfig(
        DatabaseConfig database,
        int queueCapacity,
        int maxGroupSize,
        int maxSubmissionSize,
        long maxTimeoutSeconds,
        Duration enqueueTimeout,
        long advisoryLockKey,
        int checkpointEveryGroups,
        int checkpointMaxAccounts) {

    public static final long DEFAULT_ADVISORY_LOCK_KEY = 0x4C45444745520001L;

    public LedgerConfig {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(enqueueTimeout, "enqueueTimeout");
        positive(queueCapacity, "queueCapacity");
        positive(maxGroupSize, "maxGroupSize");
        positive(maxSubmissionSize, "maxSubmissionSize");
        positive(checkpointEveryGroups, "checkpointEveryGroups");
        positive(checkpointMaxAccounts, "checkpointMaxAccounts");
        if (maxSubmissionSize > maxGroupSize) {
            throw new IllegalArgumentException("maxSubmissionSize must not exceed maxGroupSize");
        }
        if (maxTimeoutSeconds <= 0 || maxTimeoutSeconds > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxTimeoutSeconds must be in [1, 2^31 - 1]");
        }
    }

    /**
     * Defaults: 65,536 queued submissions, groups of at most 4,096 transfers, submissions of at
     * most 1,024, holds of at most 30 days, a checkpoint every 250 groups or 20,000 accounts.
     */
    public static LedgerConfig defaults(DatabaseConfig database) {
        return new LedgerConfig(database, 65_536, 4_096, 1_024, 30L * 24 * 3600, Duration.ofSeconds(5),
                DEFAULT_ADVISORY_LOCK_KEY, 250, 20_000);
    }

    public LedgerConfig withCheckpointEveryGroups(int groups) {
        return new LedgerConfig(database, queueCapacity, maxGroupSize, maxSubmissionSize, maxTimeoutSeconds,
                enqueueTimeout, advisoryLockKey, groups, checkpointMaxAccounts);
    }

    private static void positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }
}
