package dev.agentescrow.backend.gateway;

import dev.agentescrow.backend.common.web.ReadFloor;
import dev.agentescrow.batcher.command.AgentCommands;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TokenRegistration;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.BatchView;
import dev.agentescrow.batcher.read.CustodyHoldKey;
import dev.agentescrow.batcher.read.CustodyHolds;
import dev.agentescrow.batcher.read.FeedReads;
import dev.agentescrow.batcher.read.HistoryPage;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.batcher.read.ServiceTotals;
import dev.agentescrow.batcher.read.SettlementStatus;
import dev.agentescrow.batcher.read.TransferView;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/**
 * The one place the service talks to the batcher's ledger.
 * <ul>
 *   <li><b>Reads</b> go through {@link LedgerReads} ({@code batcher.reads()}): any instance serves
 *   them, a balance is one index lookup. Each takes the client's {@code minSequence} (the
 *   {@code sequence} of a write it made): the read waits at most {@link #MIN_SEQUENCE_WAIT} for the
 *   ledger to include it and otherwise answers {@link Read.Status#NOT_YET}.</li>
 *   <li><b>Client writes</b> go through {@link AgentCommands} ({@code batcher.agentCommands()}):
 *   every method takes the signed-in principal as {@code caller} and debits only the caller's own
 *   account; no method here names another debit account. They need the ledger leader.</li>
 * </ul>
 */
@Component
public class LedgerGateway {
    /** The longest a read waits for the client's {@code minSequence}. */
    public static final Duration MIN_SEQUENCE_WAIT = Duration.ofSeconds(5);

    private final Batcher batcher;
    private final LedgerConfig ledgerConfig;
    private final ReadFloor floor;

    public LedgerGateway(Batcher batcher, LedgerConfig ledgerConfig, ReadFloor floor) {
        this.batcher = batcher;
        this.ledgerConfig = ledgerConfig;
        this.floor = floor;
    }

    /** Whether this instance runs the ledger's writer now (else it stands by for another instance). */
    public boolean leads() {
        return batcher.role() == dev.agentescrow.batcher.leadership.Role.LEADER;
    }

    // ---------------------------------------------------------------- tokens

    /** The tokens the ledger accepts, ordered by address: a read of the database (any instance). */
    public List<Token> tokens() {
        return guarded(() -> reads().tokens());
    }

    /** Registers a token with the ledger (its writer: the leader only). */
    public TokenRegistration register(Token token, String actor, String reason) {
        return guarded(() -> batcher.ledger().registerToken(token, actor, reason));
    }

    /** The largest number of transfers one submission may hold (the service's ledger settings: any instance). */
    public int maxSubmissionSize() {
        return ledgerConfig.maxSubmissionSize();
    }

    /** The service's running totals for metrics: a few rows kept by the writer, never a scan (any instance). */
    public ServiceTotals totals() {
        return guarded(() -> reads().totals());
    }

    /** Confirmed batches after {@code afterBatchId}, summed, at most {@code limit} of them (any instance). */
    public FeedReads.SettledBatches settledAfter(long afterBatchId, int limit) {
        return guarded(() -> batcher.feedReads().settledAfter(afterBatchId, limit));
    }

    /** Every account's committed totals (admin verification only: reads every account). */
    public Map<AccountKey, AccountBalance> allBalances() {
        return guarded(() -> batcher.ledger().balances());
    }

    // ---------------------------------------------------------------- client writes: the caller's own money

    /**
     * Pays each payment from {@code caller}'s own account, in one submission; {@code allOrNone}:
     * one linked group. One receipt each (sequence and commit time when committed).
     */
    public List<TransferReceipt> pay(Address caller, List<AgentCommands.Payment> payments, boolean allOrNone) {
        List<TransferReceipt> receipts = guarded(() -> batcher.agentCommands().payAll(caller, payments, allOrNone));
        receipts.forEach(this::acknowledged);
        return receipts;
    }

    /** Withdraws from {@code caller}'s own account: paid out on chain by the next batch. */
    public TransferReceipt withdraw(Address caller, TransferId id, Address token, BigInteger amount) {
        return acknowledged(guarded(() -> batcher.agentCommands().withdraw(caller, id, token, Amount.of(amount),
                "withdrawal")));
    }

    /** A committed receipt raises the read floor: the caller's next read on this instance includes it. */
    private TransferReceipt acknowledged(TransferReceipt receipt) {
        if (receipt.committed()) {
            floor.acknowledged(receipt.seq());
        }
        return receipt;
    }

    // ---------------------------------------------------------------- reads (any instance)

    /**
     * {@code owner}'s account in {@code token}, once the ledger includes {@code minSequence} and
     * every write this instance acknowledged ({@link ReadFloor}).
     */
    public Read<AccountView> account(Address owner, Address token, long minSequence) {
        long atLeast = floor.atLeast(minSequence);
        return guarded(() -> reads().account(AccountKey.user(owner, token), atLeast, waitFor(atLeast)));
    }

    /** A transfer with its settlement state and proof, once the ledger includes {@code minSequence} and the floor. */
    public Read<TransferView> transfer(TransferId id, long minSequence) {
        long atLeast = floor.atLeast(minSequence);
        return guarded(() -> reads().transfer(id, atLeast, waitFor(atLeast)));
    }

    /** {@code owner}'s history, newest first: transfers with a sequence below {@code beforeSequence}. */
    public Read<HistoryPage> history(Address owner, Optional<Address> token, long beforeSequence, int limit,
                                     long minSequence) {
        long atLeast = floor.atLeast(minSequence);
        return guarded(() -> reads().history(owner, token, beforeSequence, limit, atLeast, waitFor(atLeast)));
    }

    /** The settlement state of each of a history page's transfers (one statement). */
    public Map<TransferId, SettlementStatus> settlementStates(List<TransferId> ids) {
        return guarded(() -> reads().settlementStates(ids));
    }

    /** The seq of the last committed transfer (one index lookup): the leader's position after a write it answered. */
    public long lastCommittedSequence() {
        return guarded(() -> reads().lastCommittedSeq());
    }

    /**
     * A page of {@code owner}'s deposits as the vault indexer booked them, below {@code before},
     * newest first, each event with all its bookings, and the indexer's checkpoint.
     */
    public CustodyHolds deposits(Address owner, Optional<CustodyHoldKey> before, int limit) {
        return guarded(() -> reads().custodyHolds(owner, CustodyEvent.Kind.DEPOSIT, before, limit)).get().orElseThrow();
    }

    public Optional<BatchView> batch(long id) {
        return guarded(() -> reads().batch(id)).get();
    }

    /** Batches newest first: at most {@code limit} with an id below {@code beforeId}. */
    public List<BatchView> batches(long beforeId, int limit) {
        return guarded(() -> reads().batches(beforeId, limit)).get().orElseThrow();
    }

    private LedgerReads reads() {
        return batcher.reads();
    }

    private static Duration waitFor(long minSequence) {
        return minSequence > 0 ? MIN_SEQUENCE_WAIT : Duration.ZERO;
    }

    private static <T> T guarded(Supplier<T> call) {
        try {
            return call.get();
        } catch (LedgerException e) {
            throw new LedgerUnavailableException(e.getMessage(), e);
        }
    }
}
