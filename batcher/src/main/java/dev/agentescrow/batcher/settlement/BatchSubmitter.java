package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.reconcile.PinnedVaultReads;
import dev.agentescrow.batcher.support.FailPoints;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ChainClient.Broadcast;
import dev.agentescrow.chain.ChainClient.BroadcastOutcome;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.FeeMarket;
import dev.agentescrow.chain.GasFees;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.web3j.protocol.exceptions.ClientConnectionException;
import org.slf4j.LoggerFactory;

/**
 * Posts netted batches to the vault, one at a time, so that a crash at any point resumes without
 * losing a movement or applying a batch twice. A scheduler calls {@link #tick()}; each tick, holding
 * the {@link SingleSubmitterLock}:
 *
 * <ol>
 *   <li>reads the vault's last settled batch id;</li>
 *   <li>if a batch is open, drives it one step further from what is stored and what the chain says
 *       (recovery is the normal path: the same code runs after a restart);</li>
 *   <li>otherwise, if the {@link BatchTrigger} says a batch is due, nets the oldest unsettled
 *       movements into the next batch id, stores it as {@code BUILT} together with the claim of its
 *       movements, and submits it.</li>
 * </ol>
 *
 * A transaction is signed and stored ({@code SUBMITTED}, with hash, nonce and raw bytes) before it
 * is broadcast; afterwards only those same bytes are broadcast again, so the node sees one
 * transaction however often it is sent. Batch transactions are EIP-1559 transactions priced by the
 * {@link FeePolicy}; one that no block takes within {@link FeePolicy#replaceAfterBlocks()} blocks is
 * replaced at the same nonce with higher fees (stored before it is broadcast, like any other), up to
 * {@link FeePolicy#maxFeePerGasCapWei()}, where the tick answers {@link TickResult.Outcome#FEE_CAPPED}
 * and raises {@code settlement.fee.capped}. Every stored transaction of a batch counts: whichever
 * is mined confirms (or refuses) it. The vault's strictly sequential batch ids make a second
 * application impossible in any case. Every RPC call runs under {@link dev.agentescrow.batcher.chain.ResilientRpc};
 * infrastructure failures that outlast it propagate as
 * {@link dev.agentescrow.batcher.chain.ChainUnavailableException} and the next tick resumes.
 */
public final class BatchSubmitter {
    private static final Logger log = LoggerFactory.getLogger(BatchSubmitter.class);
    private static final String BATCH_ID_MISMATCH = "VaultBatchIdMismatch";
    private static final String VAULT_PAUSED = "VaultPaused";
    private static final String VAULT_FROZEN = "VaultFrozen";

    private final SettlementChain chain;
    private final BatchStore store;
    private final SettlementSource source;
    private final SingleSubmitterLock lock;
    private final BatchTrigger trigger;
    private final BatchPlanner planner;
    private final SettlementMetrics metrics;
    private final BatchAmendment amendment;
    private final int confirmationDepth;
    private final FeePolicy fees;
    /**
     * The account registration this submitter sent and has not seen mined: followed (and replaced
     * when stuck) on the next ticks, never joined by another at the next nonce. Not stored:
     * registration is idempotent on chain, so after a restart the vault is simply asked again.
     */
    private PendingRegistration pendingRegistration;
    /** Settled balances read for planning, kept current with the batches this submitter confirms. */
    private final SettledBalances settledBalances = new SettledBalances();

    public BatchSubmitter(SettlementChain chain, BatchStore store, SettlementSource source, SingleSubmitterLock lock,
                          BatchTrigger trigger, BatchPlanner planner) {
        this(chain, store, source, lock, trigger, planner, SettlementMetrics.none());
    }

    public BatchSubmitter(SettlementChain chain, BatchStore store, SettlementSource source, SingleSubmitterLock lock,
                          BatchTrigger trigger, BatchPlanner planner, SettlementMetrics metrics) {
        this(chain, store, source, lock, trigger, planner, metrics, 1, BatchAmendment.NONE);
    }

    /**
     * @param confirmationDepth blocks a batch's receipt must be deep (1 = its own block is the head)
     *                          before the batch is CONFIRMED and its payouts booked (F8); until then
     *                          a tick answers {@link TickResult.Outcome#CONFIRMING}, and a reorg that
     *                          drops the transaction makes the next tick broadcast the same bytes again
     */
    public BatchSubmitter(SettlementChain chain, BatchStore store, SettlementSource source, SingleSubmitterLock lock,
                          BatchTrigger trigger, BatchPlanner planner, SettlementMetrics metrics,
                          int confirmationDepth) {
        this(chain, store, source, lock, trigger, planner, metrics, confirmationDepth, BatchAmendment.NONE);
    }

    /**
     * @param confirmationDepth see above
     * @param amendment what turns a netted batch into the batch signed, from the chain's state
     *     (e.g. marking the payouts that serve forced withdrawals)
     */
    public BatchSubmitter(SettlementChain chain, BatchStore store, SettlementSource source, SingleSubmitterLock lock,
                          BatchTrigger trigger, BatchPlanner planner, SettlementMetrics metrics,
                          int confirmationDepth, BatchAmendment amendment) {
        this(chain, store, source, lock, trigger, planner, metrics, confirmationDepth, amendment, FeePolicy.defaults());
    }

    /**
     * @param confirmationDepth see above
     * @param amendment see above
     * @param fees how batch transactions are priced, when a stuck one is replaced at its nonce and
     *     the most settlement pays per gas
     */
    public BatchSubmitter(SettlementChain chain, BatchStore store, SettlementSource source, SingleSubmitterLock lock,
                          BatchTrigger trigger, BatchPlanner planner, SettlementMetrics metrics,
                          int confirmationDepth, BatchAmendment amendment, FeePolicy fees) {
        this.fees = Objects.requireNonNull(fees, "fees");
        if (confirmationDepth < 1) {
            throw new IllegalArgumentException("confirmationDepth must be at least 1: " + confirmationDepth);
        }
        this.confirmationDepth = confirmationDepth;
        this.amendment = Objects.requireNonNull(amendment, "amendment");
        this.chain = Objects.requireNonNull(chain, "chain");
        this.store = Objects.requireNonNull(store, "store");
        this.source = Objects.requireNonNull(source, "source");
        this.lock = Objects.requireNonNull(lock, "lock");
        this.trigger = Objects.requireNonNull(trigger, "trigger");
        this.planner = Objects.requireNonNull(planner, "planner");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** Blocks a batch's receipt must be deep before the batch is CONFIRMED (F8). */
    public int confirmationDepth() {
        return confirmationDepth;
    }

    /**
     * Most movements one batch takes: the planner's bound, never the trigger's count (the trigger
     * decides only when a batch is due). A batch then takes the longest prefix of the backlog that
     * the vault and the gas budget allow.
     */
    public int maxMovementsPerBatch() {
        return planner.maxMovementsPerBatch();
    }

    /** One step of settlement; does nothing unless this submitter holds the lock. */
    public TickResult tick() {
        if (!lock.tryAcquire()) {
            return TickResult.of(TickResult.Outcome.NOT_LEADER);
        }
        try {
            return tickHoldingLock();
        } catch (RuntimeException e) {
            // a confirmation may or may not have been stored: the kept balances are read again
            settledBalances.clear();
            throw e;
        } finally {
            lock.release();
        }
    }

    /** The inclusion proof of a movement settled by a confirmed batch. */
    public Optional<InclusionProof> proof(TransferId transferId) {
        return store.proof(transferId);
    }

    private TickResult tickHoldingLock() {
        long chainLast = lastBatchIdOnChain();
        List<SettlementBatchRecord> open = store.openBatches();
        if (open.size() > 1) {
            throw new SettlementInconsistencyException("more than one open batch: " + open);
        }
        if (!open.isEmpty()) {
            return advance(open.getFirst(), chainLast);
        }
        return buildNext(chainLast);
    }

    private TickResult buildNext(long chainLast) {
        long storeLast = store.lastBatchId();
        if (storeLast > chainLast) {
            throw new SettlementInconsistencyException("batch " + storeLast + " is confirmed in the store but the vault's "
                    + "last batch is " + chainLast);
        }
        long t0 = System.nanoTime();
        // One scan gives the trigger its backlog and the batch its candidates: a backlog below the
        // trigger's N is small, one above it is due anyway.
        SettlementSource.Waiting waiting = source.waiting(maxMovementsPerBatch());
        UnsettledBacklog backlog = waiting.backlog();
        BatchTrigger.Decision decision = trigger.check(backlog);
        if (!decision.due()) {
            return TickResult.of(backlog.isEmpty() ? TickResult.Outcome.IDLE : TickResult.Outcome.WAITING);
        }
        long batchId = Math.max(storeLast, chainLast) + 1;
        List<SettlementMovement> candidates = waiting.movements();
        long t2 = System.nanoTime();
        // Planned without netting first; only when the gas bound closes the batch before the
        // backlog's end are credits to accounts already funded on chain counted at the cost of a
        // non-zero slot (one read of their settled balances), which lets a batch hold about 1,500
        // deltas instead of 570. The batch is netted (its Merkle tree built) once.
        BatchPlanner.Prefix prefix = planner.prefix(candidates, BatchPlanner.Funded.NONE);
        long tFunded = System.nanoTime();
        settledBalances.syncTo(Math.max(storeLast, chainLast));
        BatchPlanner.Funded funded = prefix.closedBy().filter(BatchBound.GAS::equals).isPresent()
                ? funded(candidates) : BatchPlanner.Funded.NONE;
        long tNet = System.nanoTime();
        Optional<NettedBatch> next = planner.next(batchId, candidates, funded);
        if (next.isEmpty()) {
            return TickResult.of(TickResult.Outcome.IDLE);
        }
        NettedBatch batch = next.get();
        long t3 = System.nanoTime();
        long fromBlock = rpc(chain.client()::blockNumber);
        long tBlock = System.nanoTime();
        SettlementBatchRecord built = SettlementBatchRecord.built(batch, fromBlock);
        store.saveBuilt(built, batch.movements().stream().map(SettlementMovement::transferId).toList());
        long t4 = System.nanoTime();
        FailPoints.reached("settlement.after-built");
        metrics.built(batch.batchId(), batch.movementCount());
        log.info("built {} ({} due) in {} ms: waiting movements {} ms, plan {} ms (funded balances {} ms, netting {} ms), "
                + "store {} ms (block number {} ms, batch row and claims {} ms)", batch, decision.reason(),
                (t4 - t0) / 1_000_000, (t2 - t0) / 1_000_000, (t3 - t2) / 1_000_000, (tNet - tFunded) / 1_000_000,
                (t3 - tNet) / 1_000_000, (t4 - t3) / 1_000_000, (tBlock - t3) / 1_000_000, (t4 - tBlock) / 1_000_000);
        return submit(built, true);
    }

    private TickResult advance(SettlementBatchRecord record, long chainLast) {
        if (record.batchId() <= chainLast) {
            return confirmApplied(record);
        }
        if (record.batchId() > chainLast + 1) {
            throw new SettlementInconsistencyException("open batch " + record.batchId() + " is ahead of the vault, whose "
                    + "last batch is " + chainLast);
        }
        return switch (record.state()) {
            case BUILT -> submit(record, true);
            case SUBMITTED -> followUp(record);
            case CONFIRMED, REVERTED -> throw new IllegalStateException("not open: " + record);
        };
    }

    /**
     * A stored transaction exists: find the receipt of whichever stored transaction was mined (a
     * replacement or the one it replaced), or replace the current one if it is overdue, or
     * broadcast the same bytes again.
     */
    private TickResult followUp(SettlementBatchRecord record) {
        Optional<MinedReceipt> mined = minedAttempt(record);
        if (mined.isPresent()) {
            return settleOrRefuse(record, mined.get());
        }
        long head = rpc(chain.client()::blockNumber);
        if (head - record.currentSignedAtBlock().orElseThrow() >= fees.replaceAfterBlocks()) {
            PreparedTransaction current = record.currentTransaction().orElseThrow();
            // A nonce already used up is not worth a replacement: the broadcast finds it consumed.
            if (rpc(() -> chain.client().minedNonce(current.from())) <= current.nonce()) {
                return replace(record, current, head);
            }
        }
        return broadcast(record, true);
    }

    /**
     * The current transaction was not mined {@link FeePolicy#replaceAfterBlocks()} blocks after it
     * was signed: the same call at the same nonce is signed with higher fees, stored, and only then
     * broadcast. At the fee cap nothing new is signed; the alarm is raised and the stored bytes are
     * sent again so the node keeps them.
     */
    private TickResult replace(SettlementBatchRecord record, PreparedTransaction current, long head) {
        FeeMarket market = rpc(chain.client()::feeMarket);
        GasFees paid = current.fees();
        Optional<GasFees> raised = fees.replacement(paid, market);
        if (raised.isEmpty()) {
            metrics.feeCapped(true);
            log.error("batch {}: {} is not mined {} blocks after it was signed and offers {}, as much as the cap of "
                    + "{} wei/gas allows (base fee now {}); not raised further: raise the cap or wait for cheaper "
                    + "blocks", record.batchId(), current.txHash(), head - record.currentSignedAtBlock().orElseThrow(),
                    paid, fees.maxFeePerGasCapWei(), market.baseFeePerGas());
            TickResult again = broadcast(record, true);
            return again.outcome() == TickResult.Outcome.SUBMITTED || again.outcome() == TickResult.Outcome.PENDING
                    ? TickResult.of(TickResult.Outcome.FEE_CAPPED, record) : again;
        }
        PreparedTransaction replacement = chain.client().replace(chain.operator().credentials(), current, raised.get());
        SettlementBatchRecord stored = store.markSubmitted(record.batchId(), replacement, head);
        metrics.replaced();
        metrics.feeCapped(false);
        log.warn("batch {}: {} not mined {} blocks after it was signed; replaced at nonce {} by {} with {} (was {})",
                record.batchId(), current.txHash(), head - record.currentSignedAtBlock().orElseThrow(),
                current.nonce(), replacement.txHash(), raised.get(), paid);
        FailPoints.reached("settlement.after-replacement-stored");
        return broadcast(stored, true);
    }

    /**
     * The receipt of whichever stored transaction of the batch is mined, a successful one first.
     * Transactions at one nonce exclude each other, so at most one of them is ever mined.
     */
    private Optional<MinedReceipt> minedAttempt(SettlementBatchRecord record) {
        List<TxHash> hashes = record.transactions().stream().map(PreparedTransaction::txHash).toList();
        List<MinedReceipt> mined = rpc(() -> chain.client().receipts(hashes));
        return mined.stream().filter(MinedReceipt::succeeded).findFirst().or(() -> mined.stream().reduce((a, b) -> b));
    }

    /**
     * Signs the batch at the operator's pending nonce, stores it, then broadcasts it. Accounts the
     * batch names that the vault has no id for are registered first.
     */
    private TickResult submit(SettlementBatchRecord record, boolean mayPrepareAgain) {
        FeeMarket market = rpc(chain.client()::feeMarket);
        Optional<GasFees> priced = fees.initial(market);
        if (priced.isEmpty()) {
            metrics.feeCapped(true);
            log.error("batch {}: the base fee of {} wei/gas is above the cap of {} wei/gas; nothing is signed until "
                    + "the base fee falls or the cap is raised", record.batchId(), market.baseFeePerGas(),
                    fees.maxFeePerGasCapWei());
            return TickResult.of(TickResult.Outcome.FEE_CAPPED, record);
        }
        GasFees initialFees = priced.get();
        long t0 = System.nanoTime();
        try {
            if (pendingRegistration != null && !followRegistration(record)) {
                return TickResult.of(TickResult.Outcome.REGISTERING, record);
            }
            List<Address> unknown = unknownAccounts(record.batch().settlementBatch());
            if (!unknown.isEmpty() && !register(record, unknown, initialFees)) {
                return TickResult.of(TickResult.Outcome.REGISTERING, record);
            }
        } catch (ContractRevertedException e) {
            if (isVaultPaused(e)) {
                return vaultPaused(record);
            }
            if (isVaultFrozen(e)) {
                return vaultFrozen(record);
            }
            throw e;
        }
        long t1 = System.nanoTime();
        if (!store.holdsClaims(record.batchId())) {
            // Never sign a batch whose movements another batch may settle too (F2).
            throw new SettlementInconsistencyException("batch " + record.batchId() + " does not hold the claims of "
                    + "all its movements; refusing to sign it");
        }
        BigInteger operatorWei = rpc(() -> chain.client().nativeBalance(chain.operator().address()));
        if (metrics.operatorBalance(operatorWei)) {
            log.warn("operator {} holds only {} wei of ETH: below the alarm threshold; settlement will stop when "
                    + "it cannot pay for gas", chain.operator().address(), operatorWei);
        }
        long nonce = rpc(() -> chain.client().pendingNonce(chain.operator().address()));
        long signedAtBlock = rpc(chain.client()::blockNumber);
        long t2 = System.nanoTime();
        SettlementBatch signed = amendment.amend(record.batch());
        PreparedTransaction transaction;
        try {
            transaction = rpc(() -> chain.vault().prepareSettleBatch(chain.operator(), signed, nonce, initialFees));
        } catch (ContractRevertedException e) {
            if (isVaultFrozen(e)) {
                return vaultFrozen(record);
            }
            if (e.errorName().filter(BATCH_ID_MISMATCH::equals).isPresent()) {
                log.warn("batch {} no longer matches the vault's next id; recovering next tick", record.batchId());
                return TickResult.of(TickResult.Outcome.RETRY, record);
            }
            if (isVaultPaused(e)) {
                return vaultPaused(record);
            }
            return refuse(record, "refused at gas estimation: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            return refuse(record, "cannot be encoded for the vault: " + e.getMessage());
        }
        SettlementBatchRecord submitted = store.markSubmitted(record.batchId(), transaction, signedAtBlock);
        metrics.submitted();
        metrics.feeCapped(false);
        log.info("batch {} signed as {} with {} in {} ms: vault account ids {} ms, claims and nonce {} ms, "
                + "estimate and sign {} ms", record.batchId(), transaction, initialFees,
                (System.nanoTime() - t0) / 1_000_000, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
                (System.nanoTime() - t2) / 1_000_000);
        FailPoints.reached("settlement.after-signed");
        return broadcast(submitted, mayPrepareAgain);
    }

    private static boolean isVaultPaused(ContractRevertedException e) {
        return e.errorName().filter(VAULT_PAUSED::equals).isPresent();
    }

    private static boolean isVaultFrozen(ContractRevertedException e) {
        return e.errorName().filter(VAULT_FROZEN::equals).isPresent();
    }

    /** A frozen vault never settles again: the batch stays BUILT, nothing is refused, and it is reported. */
    private TickResult vaultFrozen(SettlementBatchRecord record) {
        log.error("vault is frozen: batch {} stays BUILT and can never settle; accounts exit on chain with their "
                + "settled balances", record.batchId());
        return TickResult.of(TickResult.Outcome.VAULT_FROZEN, record);
    }

    /** A paused vault refuses every batch alike: not a verdict on this one, which waits as it is. */
    private TickResult vaultPaused(SettlementBatchRecord record) {
        log.warn("vault is paused; batch {} stays BUILT and is submitted once the vault is unpaused", record.batchId());
        return TickResult.of(TickResult.Outcome.VAULT_PAUSED, record);
    }

    /**
     * The accounts of {@code batch} (deltas and payout debits) that have no vault account id yet:
     * the ones not cached asked in JSON-RPC batches of 200 (the first batch after a start named
     * ~1,000 accounts, asked one call at a time: ~3 s).
     */
    private List<Address> unknownAccounts(SettlementBatch batch) {
        Set<Address> accounts = new LinkedHashSet<>();
        for (SettlementBatch.TokenSettlement token : batch.tokens()) {
            token.deltas().forEach(delta -> accounts.add(delta.account()));
            token.payouts().forEach(payout -> accounts.add(payout.account()));
        }
        return rpc(() -> chain.vault().unknownAccounts(accounts));
    }

    /**
     * Sends {@code registerAccounts} for {@code accounts} (in chunks the vault accepts) and
     * returns whether every chunk is mined successfully. Registration is idempotent on chain, so
     * nothing about it is stored: after a crash, or while a registration is still pending, the
     * next tick asks the vault again and registers whatever is still unknown.
     */
    private boolean register(SettlementBatchRecord record, List<Address> accounts, GasFees fees) {
        for (int from = 0; from < accounts.size(); from += SettlementVaultGateway.MAX_REGISTER_ACCOUNTS) {
            List<Address> chunk = accounts.subList(from,
                    Math.min(accounts.size(), from + SettlementVaultGateway.MAX_REGISTER_ACCOUNTS));
            long nonce = rpc(() -> chain.client().pendingNonce(chain.operator().address()));
            long signedAtBlock = rpc(chain.client()::blockNumber);
            PreparedTransaction transaction = rpc(() -> chain.vault().prepareRegisterAccounts(chain.operator(),
                    chunk, nonce, fees));
            Broadcast sent = rpc(() -> chain.client().broadcastAndPoll(transaction));
            Optional<MinedReceipt> mined = sent.receipt().or(() -> receipt(transaction));
            if (mined.isEmpty()) {
                pendingRegistration = new PendingRegistration(transaction, signedAtBlock, chunk.size());
                log.info("batch {}: registering {} accounts with the vault in {} ({}); waiting for it to be mined",
                        record.batchId(), chunk.size(), transaction.txHash(), sent.outcome());
                return false;
            }
            if (!mined.get().succeeded()) {
                log.error("batch {}: registering {} accounts failed in {}; trying again next tick", record.batchId(),
                        chunk.size(), transaction.txHash());
                return false;
            }
            metrics.accountsRegistered(chunk.size());
            log.info("batch {}: registered {} accounts with the vault: {}", record.batchId(), chunk.size(), chunk);
        }
        return true;
    }

    /**
     * Follows the registration sent earlier: true once it is out of the way (mined, or its nonce
     * used up by the transaction it replaced), so the caller asks the vault which accounts are
     * still unknown; false while it waits. Stuck {@link FeePolicy#replaceAfterBlocks()} blocks, it
     * is replaced at its nonce with higher fees, like a batch (in memory only, see above).
     */
    private boolean followRegistration(SettlementBatchRecord record) {
        PendingRegistration pending = pendingRegistration;
        Optional<MinedReceipt> mined = receipt(pending.transaction());
        if (mined.isEmpty()) {
            long head = rpc(chain.client()::blockNumber);
            long minedNonce = rpc(() -> chain.client().minedNonce(pending.transaction().from()));
            if (minedNonce > pending.transaction().nonce()) {
                log.info("batch {}: the nonce of registration {} is used (by the transaction it replaced); asking "
                        + "the vault again", record.batchId(), pending.transaction().txHash());
                pendingRegistration = null;
                return true;
            }
            if (head - pending.signedAtBlock() >= fees.replaceAfterBlocks()) {
                FeeMarket market = rpc(chain.client()::feeMarket);
                Optional<GasFees> raised = fees.replacement(pending.transaction().fees(), market);
                if (raised.isPresent()) {
                    PreparedTransaction replacement = chain.client().replace(chain.operator().credentials(),
                            pending.transaction(), raised.get());
                    pendingRegistration = new PendingRegistration(replacement, head, pending.accounts());
                    metrics.replaced();
                    log.warn("batch {}: registration {} not mined {} blocks after it was signed; replaced at nonce {} "
                            + "by {} with {}", record.batchId(), pending.transaction().txHash(),
                            head - pending.signedAtBlock(), pending.transaction().nonce(), replacement.txHash(),
                            raised.get());
                } else {
                    metrics.feeCapped(true);
                    log.error("batch {}: registration {} is not mined and offers {}, as much as the cap of {} wei/gas "
                            + "allows (base fee now {})", record.batchId(), pending.transaction().txHash(),
                            pending.transaction().fees(), fees.maxFeePerGasCapWei(), market.baseFeePerGas());
                }
            }
            PreparedTransaction current = pendingRegistration.transaction();
            Broadcast sent = rpc(() -> chain.client().broadcastAndPoll(current));
            if (sent.outcome() == BroadcastOutcome.NONCE_CONSUMED) {
                pendingRegistration = null;
                return true;
            }
            mined = sent.receipt();
            if (mined.isEmpty()) {
                return false;
            }
        }
        pendingRegistration = null;
        if (mined.get().succeeded()) {
            metrics.accountsRegistered(pending.accounts());
            log.info("batch {}: registered {} accounts with the vault in {}", record.batchId(), pending.accounts(),
                    mined.get().txHash());
        } else {
            log.error("batch {}: registration {} failed; asking the vault again", record.batchId(),
                    mined.get().txHash());
        }
        return true;
    }

    private record PendingRegistration(PreparedTransaction transaction, long signedAtBlock, int accounts) {
    }

    private TickResult broadcast(SettlementBatchRecord record, boolean mayPrepareAgain) {
        PreparedTransaction transaction = record.currentTransaction().orElseThrow();
        Broadcast sent;
        try {
            sent = rpc(() -> chain.client().broadcastAndPoll(transaction));
        } catch (ContractRevertedException e) {
            // Hardhat mines a reverting transaction and answers with the revert; a batch id
            // mismatch means some transaction applied this id already.
            if (lastBatchIdOnChain() >= record.batchId()) {
                return confirmApplied(record);
            }
            return refuse(record, "settleBatch " + transaction.txHash() + " reverted: " + e.getMessage());
        }
        BroadcastOutcome outcome = sent.outcome();
        if (outcome == BroadcastOutcome.NONCE_CONSUMED) {
            if (lastBatchIdOnChain() >= record.batchId()) {
                return confirmApplied(record);
            }
            // The nonce may have gone to another of this batch's own transactions (the one a
            // replacement was meant to replace), mined as failed: that is the vault's answer.
            Optional<MinedReceipt> ours = minedAttempt(record);
            if (ours.isPresent()) {
                return settleOrRefuse(record, ours.get());
            }
            if (!mayPrepareAgain) {
                return TickResult.of(TickResult.Outcome.RETRY, record);
            }
            log.warn("nonce {} of {} was consumed by another transaction; signing batch {} again", transaction.nonce(),
                    transaction.from(), record.batchId());
            return submit(record, false);
        }
        FailPoints.reached("settlement.after-broadcast");
        // The first receipt poll travelled with the broadcast; a node that mines on arrival has it.
        Optional<MinedReceipt> mined = sent.receipt().or(() -> receipt(transaction));
        if (mined.isEmpty()) {
            return TickResult.of(outcome == BroadcastOutcome.ACCEPTED ? TickResult.Outcome.SUBMITTED
                    : TickResult.Outcome.PENDING, record);
        }
        return settleOrRefuse(record, mined.get());
    }

    private TickResult settleOrRefuse(SettlementBatchRecord record, MinedReceipt mined) {
        if (mined.succeeded()) {
            return confirm(record, mined);
        }
        if (lastBatchIdOnChain() >= record.batchId()) {
            return confirmApplied(record);
        }
        return refuse(record, "settleBatch " + mined.txHash() + " failed in block " + mined.blockNumber());
    }

    /**
     * The vault's last batch id is at least this batch's: some transaction applied the id. It is
     * ours if one of our stored transactions succeeded, or if the id's {@code BatchSettled} event
     * carries our Merkle root; anything else is a loud inconsistency.
     */
    private TickResult confirmApplied(SettlementBatchRecord record) {
        Optional<MinedReceipt> ours = minedAttempt(record).filter(MinedReceipt::succeeded);
        if (ours.isPresent()) {
            return confirm(record, ours.get());
        }
        long toBlock = rpc(chain.client()::blockNumber);
        List<BatchSettled> events = rpc(() -> chain.vault().batchesSettledBetween(record.searchFromBlock(),
                toBlock)).stream().filter(event -> event.batchId() == record.batchId()).toList();
        if (events.isEmpty()) {
            throw new SettlementInconsistencyException("the vault applied batch " + record.batchId() + " but no "
                    + "BatchSettled event for it exists in blocks " + record.searchFromBlock() + ".." + toBlock);
        }
        BatchSettled event = events.getFirst();
        if (!event.merkleRoot().equals(record.batch().merkleRoot())) {
            throw new SettlementInconsistencyException("the vault applied batch " + record.batchId() + " with root "
                    + event.merkleRoot() + " in " + event.position().txHash() + ", but the stored batch has root "
                    + record.batch().merkleRoot());
        }
        MinedReceipt mined = rpc(() -> chain.client().receipt(event.position().txHash()))
                .filter(MinedReceipt::succeeded)
                .orElseThrow(() -> new SettlementInconsistencyException("no successful receipt for "
                        + event.position().txHash() + " that emitted BatchSettled " + record.batchId()));
        return confirm(record, mined);
    }

    private TickResult confirm(SettlementBatchRecord record, MinedReceipt mined) {
        if (confirmationDepth > 1) {
            long head = rpc(chain.client()::blockNumber);
            long depth = head - mined.blockNumber() + 1;
            if (depth < confirmationDepth) {
                log.info("batch {} mined in block {}, {} of {} confirmations", record.batchId(), mined.blockNumber(),
                        depth, confirmationDepth);
                return TickResult.of(TickResult.Outcome.CONFIRMING, record);
            }
        }
        FailPoints.reached("settlement.before-confirm");
        metrics.feeCapped(false);
        source.settled(record.batchId());
        store.markConfirmed(record.batchId(), mined);
        settledBalances.applied(record.batch().settlementBatch());
        metrics.confirmed(record.batchId(), record.batch().movementCount(), mined.gasUsed());
        log.info("batch {} confirmed in block {} ({} gas)", record.batchId(), mined.blockNumber(), mined.gasUsed());
        return TickResult.of(TickResult.Outcome.CONFIRMED, record);
    }

    /**
     * The vault refuses the batch. Movements that would overdraw an account's settled balance on
     * chain (replayed in commit order from the vault's balances) are quarantined; the rest are
     * released to settle in a new batch.
     */
    private TickResult refuse(SettlementBatchRecord record, String reason) {
        List<Quarantined> culprits = overdrafts(record.batch());
        String detail = culprits.isEmpty() ? reason + "; no movement overdraws a settled balance"
                : reason + "; quarantined " + culprits;
        Map<TransferId, String> quarantine = new LinkedHashMap<>();
        culprits.forEach(culprit -> quarantine.putIfAbsent(culprit.transferId(), culprit.reason()));
        FailPoints.reached("settlement.before-refuse");
        settledBalances.clear();
        store.refuse(record.batchId(), detail, quarantine);
        FailPoints.reached("settlement.after-refuse");
        metrics.reverted(record.batchId(), culprits.size());
        log.error("batch {} refused: {}", record.batchId(), detail);
        return new TickResult(TickResult.Outcome.REVERTED, record.batchId(), record.batch().movementCount(),
                culprits.size());
    }

    private List<Quarantined> overdrafts(NettedBatch batch) {
        Map<BalanceKey, BigInteger> balances = new HashMap<>();
        List<Quarantined> culprits = new ArrayList<>();
        for (SettlementMovement movement : batch.movements()) {
            Address debited = switch (movement) {
                case SettlementMovement.Transfer t -> t.from();
                case SettlementMovement.Withdrawal w -> w.account();
            };
            BalanceKey from = new BalanceKey(movement.token(), debited);
            BigInteger balance = balances.computeIfAbsent(from, this::settledBalance);
            BigInteger amount = movement.amount().baseUnits();
            if (balance.compareTo(amount) < 0) {
                culprits.add(new Quarantined(movement.transferId(), "spends " + amount + " of token " + movement.token()
                        + " from " + debited + ", whose settled balance at that point is " + balance));
                continue;
            }
            balances.put(from, balance.subtract(amount));
            if (movement instanceof SettlementMovement.Transfer t) {
                BalanceKey to = new BalanceKey(t.token(), t.to());
                balances.put(to, balances.computeIfAbsent(to, this::settledBalance).add(amount));
            }
        }
        return culprits;
    }

    private BigInteger settledBalance(BalanceKey key) {
        return rpc(() -> chain.vault().settledBalance(key.token(), key.account())).baseUnits();
    }

    private Optional<MinedReceipt> receipt(PreparedTransaction transaction) {
        return rpc(() -> chain.client().receipt(transaction.txHash()));
    }

    private long lastBatchIdOnChain() {
        return rpc(chain.vault()::lastBatchId);
    }

    /**
     * Runs {@code call} under the retry and circuit-breaker policy. web3j reports an HTTP error
     * status as an unchecked {@link ClientConnectionException} from some calls; it is an
     * infrastructure failure like any other, so it is mapped to {@link ChainException} and retried.
     */
    private <T> T rpc(Supplier<T> call) {
        return chain.rpc().call(() -> {
            try {
                return call.get();
            } catch (ClientConnectionException e) {
                throw new ChainException("RPC failed: " + e.getMessage(), e);
            }
        });
    }

    private record BalanceKey(Address token, Address account) {
    }

    /**
     * The accounts credited by {@code movements} whose settled balance in the vault is not zero:
     * those {@link SettledBalances} does not hold are read at the head block (one JSON-RPC batch of
     * {@code settledBalance} calls per 200 accounts) and kept; no batch is open while this runs, so
     * every batch this submitter confirms later is applied to what was read exactly once.
     */
    private BatchPlanner.Funded funded(List<SettlementMovement> movements) {
        Map<Address, Set<Address>> credited = new LinkedHashMap<>();
        for (SettlementMovement movement : movements) {
            if (movement instanceof SettlementMovement.Transfer t) {
                credited.computeIfAbsent(t.token(), k -> new LinkedHashSet<>()).add(t.to());
            }
        }
        long head = -1;
        for (Map.Entry<Address, Set<Address>> token : credited.entrySet()) {
            List<Address> unread = token.getValue().stream()
                    .filter(account -> settledBalances.get(token.getKey(), account).isEmpty()).toList();
            if (unread.isEmpty()) {
                continue;
            }
            if (head < 0) {
                head = rpc(chain.client()::blockNumber);
            }
            PinnedVaultReads reads = new PinnedVaultReads(chain.client(), chain.vault().address(), head);
            List<BigInteger> balances = rpc(() -> reads.settledBalances(token.getKey(), unread));
            for (int i = 0; i < unread.size(); i++) {
                settledBalances.read(token.getKey(), unread.get(i), balances.get(i));
            }
        }
        return (token, account) -> settledBalances.get(token, account).filter(b -> b.signum() > 0).isPresent();
    }

    private record Quarantined(TransferId transferId, String reason) {
        @Override
        public String toString() {
            return transferId + " (" + reason + ")";
        }
    }
}
