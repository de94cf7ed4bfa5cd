package dev.agentescrow.batcher.runtime;

import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.settlement.BatchPlanner;
import dev.agentescrow.batcher.settlement.BatchTrigger;
import dev.agentescrow.batcher.settlement.FeePolicy;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainSettings;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a {@link Batcher} needs besides the operator's key (which never lives in
 * configuration objects that get logged or serialised).
 *
 * @param database where the ledger lives (embedded by default)
 * @param chain the node and chain id
 * @param vault the settlement vault's address
 * @param vaultDeploymentBlock the block the vault was deployed in: the indexer starts there and
 *                             the reconciler scans payouts from there
 * @param systemAccounts the on-chain addresses of the fee collector and the escrow holder (like
 *                       any account that never deposited, the submitter registers them with the
 *                       vault before the first batch that credits them)
 * @param confirmations blocks after a custody event's block before it is booked as a hold (a deposit
 *                      shows as the user's incoming, not spendable)
 * @param maxBlocksPerPoll blocks scanned by one indexer poll at most
 * @param transfersPerBatch the trigger N: settle once this many movements wait (when, not how many:
 *                          a batch takes as much of the backlog as {@code batchLimits} allow)
 * @param maxBatchDelay the trigger T: settle once the oldest waiting movement is this old
 * @param schedule how often each step runs
 * @param rpc retry and circuit breaker settings around every RPC call
 * @param batchConfirmationDepth blocks a batch's receipt must be deep (1 = its own block is the
 *                               head) before the batch is CONFIRMED and its payouts booked
 *                               (issue 10, F8); 1 by default, which suits a local chain that
 *                               mines on demand; a public chain wants more (e.g. 12)
 * @param depositConfirmationDepth blocks after a custody event's block before its hold is posted (a
 *                                 deposit becomes spendable), at least {@code confirmations}; a
 *                                 reorganisation shallower than this voids the hold (issue 10, F8)
 * @param fees how settlement prices its EIP-1559 transactions: {@code replaceAfterBlocks} (a batch
 *             transaction no block has taken that many blocks after signing is replaced at its
 *             nonce), {@code bumpPercent} (each replacement pays that much more, at least 13%) and
 *             {@code maxFeePerGasCapWei} (never more per gas; at the cap the alarm
 *             {@code settlement.fee.capped} is raised instead); {@link FeePolicy#defaults()}
 * @param batchLimits how large one batch may be: the vault's bounds always, at most this many
 *                    movements and this gas budget per transaction ({@link #DEFAULT_MOVEMENTS_PER_BATCH},
 *                    {@link dev.agentescrow.batcher.settlement.BatchGas#DEFAULT_MAX_GAS_PER_BATCH})
 */
public record BatcherConfig(DatabaseConfig database, ChainSettings chain, Address vault, long vaultDeploymentBlock,
                            SettlementAddresses systemAccounts, int confirmations, int maxBlocksPerPoll,
                            int transfersPerBatch, Duration maxBatchDelay, Schedule schedule,
                            RpcResilienceConfig rpc, int batchConfirmationDepth,
                            int depositConfirmationDepth, FeePolicy fees, BatchPlanner batchLimits) {

    /**
     * Most movements one batch takes by default (the vault bounds entries, payouts and tokens, and
     * the gas budget bounds their cost, but netting makes movements themselves free on chain; this
     * bounds the memory of a batch and of its proofs, a few MB).
     */
    public static final int DEFAULT_MOVEMENTS_PER_BATCH = 16_384;

    /** Confirmations before a custody event is booked as a hold, by default. */
    public static final int DEFAULT_CONFIRMATIONS = 1;
    /** Confirmations before a custody event's hold is posted, by default. */
    public static final int DEFAULT_DEPOSIT_CONFIRMATION_DEPTH = 2;
    /** Blocks scanned by one indexer poll at most, by default. */
    public static final int DEFAULT_MAX_BLOCKS_PER_POLL = 2_000;
    /** Depth of a batch's receipt before the batch is confirmed, by default: a local chain's. */
    public static final int DEFAULT_BATCH_CONFIRMATION_DEPTH = 1;

    public BatcherConfig {
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(chain, "chain");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(systemAccounts, "systemAccounts");
        Objects.requireNonNull(maxBatchDelay, "maxBatchDelay");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(rpc, "rpc");
        Objects.requireNonNull(fees, "fees");
        Objects.requireNonNull(batchLimits, "batchLimits");
        if (vaultDeploymentBlock < 0) {
            throw new IllegalArgumentException("vaultDeploymentBlock must not be negative: " + vaultDeploymentBlock);
        }
        if (confirmations < 0) {
            throw new IllegalArgumentException("confirmations must not be negative: " + confirmations);
        }
        if (depositConfirmationDepth < confirmations) {
            throw new IllegalArgumentException("depositConfirmationDepth " + depositConfirmationDepth
                    + " must be at least confirmations " + confirmations);
        }
        if (batchConfirmationDepth < 1) {
            throw new IllegalArgumentException("batchConfirmationDepth must be at least 1: " + batchConfirmationDepth);
        }
        if (maxBlocksPerPoll < 1) {
            throw new IllegalArgumentException("maxBlocksPerPoll must be positive: " + maxBlocksPerPoll);
        }
        if (transfersPerBatch < 1) {
            throw new IllegalArgumentException("transfersPerBatch must be positive: " + transfersPerBatch);
        }
        if (maxBatchDelay.isNegative() || maxBatchDelay.isZero()) {
            throw new IllegalArgumentException("maxBatchDelay must be positive: " + maxBatchDelay);
        }
    }

    /**
     * The defaults: custody events held at 1 confirmation and posted at 2, 2,000 blocks per poll, N = 100, T = 300 s, the default
     * schedule and RPC resilience, batch confirmation depth 1.
     */
    public static BatcherConfig defaults(DatabaseConfig database, ChainSettings chain, Address vault,
                                         long vaultDeploymentBlock, SettlementAddresses systemAccounts) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, DEFAULT_CONFIRMATIONS,
                DEFAULT_MAX_BLOCKS_PER_POLL, BatchTrigger.DEFAULT_MAX_TRANSFERS, BatchTrigger.DEFAULT_MAX_DELAY,
                Schedule.defaults(), RpcResilienceConfig.defaults(), DEFAULT_BATCH_CONFIRMATION_DEPTH,
                DEFAULT_DEPOSIT_CONFIRMATION_DEPTH, FeePolicy.defaults(),
                new BatchPlanner(DEFAULT_MOVEMENTS_PER_BATCH));
    }

    /** Custody events held and posted at the same depth, {@code blocks}. */
    public BatcherConfig withConfirmations(int blocks) {
        return withDepositConfirmations(blocks, blocks);
    }

    /** Custody events held at {@code hold} confirmations and posted at {@code depth}. */
    public BatcherConfig withDepositConfirmations(int hold, int depth) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, hold, maxBlocksPerPoll,
                transfersPerBatch, maxBatchDelay, schedule, rpc, batchConfirmationDepth, depth, fees, batchLimits);
    }

    public BatcherConfig withTrigger(int transfers, Duration delay) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, confirmations,
                maxBlocksPerPoll, transfers, delay, schedule, rpc, batchConfirmationDepth,
                depositConfirmationDepth, fees, batchLimits);
    }

    public BatcherConfig withSchedule(Schedule newSchedule) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, confirmations,
                maxBlocksPerPoll, transfersPerBatch, maxBatchDelay, newSchedule, rpc, batchConfirmationDepth,
                depositConfirmationDepth, fees, batchLimits);
    }

    /** The same configuration with batches confirmed only once their receipt is {@code depth} deep. */
    public BatcherConfig withBatchConfirmationDepth(int depth) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, confirmations,
                maxBlocksPerPoll, transfersPerBatch, maxBatchDelay, schedule, rpc, depth,
                depositConfirmationDepth, fees, batchLimits);
    }

    /** The same configuration with another settlement fee policy (replacement and fee cap). */
    public BatcherConfig withFees(FeePolicy newFees) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, confirmations,
                maxBlocksPerPoll, transfersPerBatch, maxBatchDelay, schedule, rpc, batchConfirmationDepth,
                depositConfirmationDepth, newFees, batchLimits);
    }

    /**
     * The same configuration with batches of at most {@code movements} movements whose gas bound
     * ({@link dev.agentescrow.batcher.settlement.BatchGas}) stays within {@code maxGasPerBatch}.
     * The trigger ({@link #withTrigger}) decides only when a batch is due, never its size.
     */
    public BatcherConfig withBatchLimits(int movements, long maxGasPerBatch) {
        return new BatcherConfig(database, chain, vault, vaultDeploymentBlock, systemAccounts, confirmations,
                maxBlocksPerPoll, transfersPerBatch, maxBatchDelay, schedule, rpc, batchConfirmationDepth,
                depositConfirmationDepth, fees, new BatchPlanner(movements, maxGasPerBatch));
    }

    /**
     * The delay after each run of a step before its next run.
     *
     * @param index polling the vault's custody events
     * @param settle a submitter turn (it settles as many due batches as are ready, one after another)
     * @param expire expiring pending transfers past their timeout
     * @param reconcile comparing the vault with the ledger (skipped while a batch is in flight)
     */
    public record Schedule(Duration index, Duration settle, Duration expire, Duration reconcile) {
        public Schedule {
            for (Duration delay : new Duration[] {index, settle, expire, reconcile}) {
                if (delay == null || delay.isNegative() || delay.isZero()) {
                    throw new IllegalArgumentException("every step needs a positive delay: " + delay);
                }
            }
        }

        /** Index every 2 s, settle every 1 s, expire every 1 s, reconcile every 10 minutes. */
        public static Schedule defaults() {
            return new Schedule(Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(1),
                    Duration.ofMinutes(10));
        }
    }
}
