package dev.agentescrow.batcher.settlement;

import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The persisted state of one settlement batch row: the netted batch, every transaction signed for
 * it (the current one last), and how it ended. Immutable; state changes only through the guarded
 * {@code with...} transitions, which throw {@link IllegalStateException} from a state that does
 * not allow them (see {@link BatchState}).
 */
public final class SettlementBatchRecord {
    private final BatchState state;
    private final NettedBatch batch;
    private final long searchFromBlock;
    private final List<PreparedTransaction> transactions;
    private final List<Long> signedAtBlocks;
    private final MinedReceipt receipt;
    private final String failure;

    private SettlementBatchRecord(BatchState state, NettedBatch batch, long searchFromBlock,
                                  List<PreparedTransaction> transactions, List<Long> signedAtBlocks,
                                  MinedReceipt receipt, String failure) {
        this.state = Objects.requireNonNull(state, "state");
        this.batch = Objects.requireNonNull(batch, "batch");
        if (searchFromBlock < 0) {
            throw new IllegalArgumentException("searchFromBlock must not be negative: " + searchFromBlock);
        }
        this.searchFromBlock = searchFromBlock;
        this.transactions = List.copyOf(transactions);
        this.signedAtBlocks = List.copyOf(signedAtBlocks);
        if (this.signedAtBlocks.size() != this.transactions.size()) {
            throw new IllegalArgumentException("one signing block per transaction");
        }
        this.receipt = receipt;
        this.failure = failure;
    }

    /**
     * A freshly built batch whose movements are being claimed.
     *
     * @param searchFromBlock the chain's block number when the batch was built: its
     *     {@code BatchSettled} event, if any, is in this block or a later one
     */
    public static SettlementBatchRecord built(NettedBatch batch, long searchFromBlock) {
        return new SettlementBatchRecord(BatchState.BUILT, batch, searchFromBlock, List.of(), List.of(), null, null);
    }

    /**
     * A transaction was signed for the batch and is about to be broadcast. From {@code BUILT}, or
     * from {@code SUBMITTED} when the previous transaction was not mined in time and is replaced at
     * its nonce with higher fees, or when its nonce was consumed by another transaction (the
     * earlier transactions stay listed so that recovery still finds whichever of them is mined).
     *
     * @param signedAtBlock the chain's head when it was signed: a replacement is due so many
     *     blocks later ({@link FeePolicy#replaceAfterBlocks()})
     */
    public SettlementBatchRecord withSubmitted(PreparedTransaction transaction, long signedAtBlock) {
        Objects.requireNonNull(transaction, "transaction");
        if (signedAtBlock < 0) {
            throw new IllegalArgumentException("signedAtBlock must not be negative: " + signedAtBlock);
        }
        requireState("submit", BatchState.BUILT, BatchState.SUBMITTED);
        if (transactions.stream().anyMatch(t -> t.txHash().equals(transaction.txHash()))) {
            throw new IllegalStateException("batch " + batchId() + " already holds transaction " + transaction.txHash());
        }
        List<PreparedTransaction> all = new ArrayList<>(transactions);
        all.add(transaction);
        List<Long> blocks = new ArrayList<>(signedAtBlocks);
        blocks.add(signedAtBlock);
        return new SettlementBatchRecord(BatchState.SUBMITTED, batch, searchFromBlock, all, blocks, null, null);
    }

    /** The vault applied the batch in the successful transaction {@code receipt}. */
    public SettlementBatchRecord withConfirmed(MinedReceipt receipt) {
        Objects.requireNonNull(receipt, "receipt");
        requireState("confirm", BatchState.BUILT, BatchState.SUBMITTED);
        if (!receipt.succeeded()) {
            throw new IllegalArgumentException("batch " + batchId() + " cannot be confirmed by failed transaction "
                    + receipt.txHash());
        }
        return new SettlementBatchRecord(BatchState.CONFIRMED, batch, searchFromBlock, transactions, signedAtBlocks,
                receipt, null);
    }

    /** The vault refused the batch (or its transaction failed) for {@code reason}. */
    public SettlementBatchRecord withReverted(String reason) {
        Objects.requireNonNull(reason, "reason");
        requireState("revert", BatchState.BUILT, BatchState.SUBMITTED);
        return new SettlementBatchRecord(BatchState.REVERTED, batch, searchFromBlock, transactions, signedAtBlocks,
                null, reason);
    }

    private void requireState(String transition, BatchState... allowed) {
        for (BatchState state : allowed) {
            if (this.state == state) {
                return;
            }
        }
        throw new IllegalStateException("cannot " + transition + " batch " + batchId() + " in state " + state);
    }

    public long batchId() {
        return batch.batchId();
    }

    public BatchState state() {
        return state;
    }

    public boolean isOpen() {
        return !state.isFinal();
    }

    public NettedBatch batch() {
        return batch;
    }

    public long searchFromBlock() {
        return searchFromBlock;
    }

    /** Every transaction signed for this batch, in signing order. */
    public List<PreparedTransaction> transactions() {
        return transactions;
    }

    /** The transaction signed last, the one to look for or broadcast again. */
    public Optional<PreparedTransaction> currentTransaction() {
        return transactions.isEmpty() ? Optional.empty() : Optional.of(transactions.getLast());
    }

    /** The chain's head when the {@link #currentTransaction() current transaction} was signed. */
    public OptionalLong currentSignedAtBlock() {
        return signedAtBlocks.isEmpty() ? OptionalLong.empty()
                : OptionalLong.of(signedAtBlocks.getLast());
    }

    /** The chain's head when each transaction was signed, in the order of {@link #transactions()}. */
    public List<Long> signedAtBlocks() {
        return signedAtBlocks;
    }

    /** The successful transaction that applied the batch, once {@code CONFIRMED}. */
    public Optional<MinedReceipt> confirmation() {
        return Optional.ofNullable(receipt);
    }

    /** Why the batch was refused, once {@code REVERTED}. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    @Override
    public String toString() {
        return "SettlementBatchRecord[id=" + batchId() + ", " + state + ", movements=" + batch.movementCount()
                + ", transactions=" + transactions.stream().map(PreparedTransaction::txHash).toList()
                + (failure == null ? "" : ", failure=" + failure) + "]";
    }
}
