package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.chain.Address;
import java.time.Duration;
import java.util.Map;
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
 * @param checkpointEveryGroups  hand the touched accounts' totals to the checkpointer (which
 *                               writes them beside the writer, never inside a group's commit) every
 *                               this many groups (8 by default) once it is free, and whenever the
 *                               queue is idle for 2 ms: the rows of {@code accounts}, which the O(1)
 *                               reads of {@code read.LedgerReads} serve, lag by about this many
 *                               groups plus one checkpoint write under load and catch up as soon
 *                               as the ledger is idle
 * @param checkpointMaxAccounts  or as soon as this many accounts were touched since the last one
 * @param requestTimeout       how long a blocking call ({@code submit}, {@code expirePending},
 *                             {@code registerToken}) waits for its result before it fails
 * @param maxAccounts          accounts held in memory; a client transfer that would open one more
 *                             gets {@link TransferResult#TOO_MANY_ACCOUNTS}
 * @param maxOpenPendings      open holds held in memory; a client hold beyond gets
 *                             {@link TransferResult#TOO_MANY_PENDING}
 * @param defaultLimits        limits of client transfers in tokens not in {@code tokenLimits}
 * @param tokenLimits          limits of client transfers per token
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
        int checkpointMaxAccounts,
        Duration requestTimeout,
        int maxAccounts,
        int maxOpenPendings,
        TokenLimits defaultLimits,
        Map<Address, TokenLimits> tokenLimits) {

    public static final long DEFAULT_ADVISORY_LOCK_KEY = 0x4C45444745520001L;

    public LedgerConfig {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(enqueueTimeout, "enqueueTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(defaultLimits, "defaultLimits");
        tokenLimits = Map.copyOf(tokenLimits);
        positive(maxAccounts, "maxAccounts");
        positive(maxOpenPendings, "maxOpenPendings");
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("requestTimeout must be positive");
        }
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
     * most 1,024, holds of at most 30 days, the touched accounts' totals written every 8 groups (and when idle),
     * requests that wait at most 60 s, at most 10 million accounts and 1 million open holds, and
     * every token limited to the vault's cap.
     */
    public static LedgerConfig defaults(DatabaseConfig database) {
        return new LedgerConfig(database, 65_536, 4_096, 1_024, 30L * 24 * 3600, Duration.ofSeconds(5),
                DEFAULT_ADVISORY_LOCK_KEY, 8, 20_000);
    }

    /** The original settings with the defaults of the later ones (timeout, memory bounds, limits). */
    public LedgerConfig(DatabaseConfig database, int queueCapacity, int maxGroupSize, int maxSubmissionSize,
            long maxTimeoutSeconds, Duration enqueueTimeout, long advisoryLockKey, int checkpointEveryGroups,
            int checkpointMaxAccounts) {
        this(database, queueCapacity, maxGroupSize, maxSubmissionSize, maxTimeoutSeconds, enqueueTimeout,
                advisoryLockKey, checkpointEveryGroups, checkpointMaxAccounts, Duration.ofSeconds(60), 10_000_000,
                1_000_000, TokenLimits.VAULT, Map.of());
    }

    public LedgerConfig withCheckpointEveryGroups(int groups) {
        return new LedgerConfig(database, queueCapacity, maxGroupSize, maxSubmissionSize, maxTimeoutSeconds,
                enqueueTimeout, advisoryLockKey, groups, checkpointMaxAccounts, requestTimeout, maxAccounts,
                maxOpenPendings, defaultLimits, tokenLimits);
    }

    /** These settings with {@code limits} for client transfers in {@code token}. */
    public LedgerConfig withTokenLimits(Address token, TokenLimits limits) {
        Map<Address, TokenLimits> next = new java.util.HashMap<>(tokenLimits);
        next.put(Objects.requireNonNull(token, "token"), Objects.requireNonNull(limits, "limits"));
        return new LedgerConfig(database, queueCapacity, maxGroupSize, maxSubmissionSize, maxTimeoutSeconds,
                enqueueTimeout, advisoryLockKey, checkpointEveryGroups, checkpointMaxAccounts, requestTimeout,
                maxAccounts, maxOpenPendings, defaultLimits, next);
    }

    /** These settings with other bounds on what the writer holds in memory. */
    public LedgerConfig withMemoryBounds(int accounts, int openPendings) {
        return new LedgerConfig(database, queueCapacity, maxGroupSize, maxSubmissionSize, maxTimeoutSeconds,
                enqueueTimeout, advisoryLockKey, checkpointEveryGroups, checkpointMaxAccounts, requestTimeout,
                accounts, openPendings, defaultLimits, tokenLimits);
    }

    /** These settings with another deadline for blocking calls. */
    public LedgerConfig withRequestTimeout(Duration timeout) {
        return new LedgerConfig(database, queueCapacity, maxGroupSize, maxSubmissionSize, maxTimeoutSeconds,
                enqueueTimeout, advisoryLockKey, checkpointEveryGroups, checkpointMaxAccounts, timeout,
                maxAccounts, maxOpenPendings, defaultLimits, tokenLimits);
    }

    /** The limits of client transfers in {@code token}. */
    public TokenLimits limits(Address token) {
        return tokenLimits.getOrDefault(token, defaultLimits);
    }

    private static void positive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }
}
