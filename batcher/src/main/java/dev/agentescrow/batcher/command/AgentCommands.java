package dev.agentescrow.batcher.command;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.batcher.read.TransferView;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What an agent may do with its own money: the only command layer a client request reaches. The
 * {@code caller} of every method is the authenticated principal's address, given by the service's
 * authentication layer, never by the request body; and every method debits the caller's own
 * account (or gives up the caller's own claim). There is no parameter that names another debit
 * account, so no request can spend someone else's funds:
 * <ul>
 *   <li>{@link #pay}, {@link #hold}, {@link #fundEscrow}, {@link #withdraw} debit {@code user(caller, token)};</li>
 *   <li>{@link #release} posts a hold only if the caller is its payer (its debit account);</li>
 *   <li>{@link #refund} voids a hold only if the caller is its payee (it gives up its incoming
 *       claim; a payer cannot take back a hold: that is a rule's decision, {@link ServiceCommands},
 *       or the hold's timeout).</li>
 * </ul>
 * A hold that is not the caller's answers {@link TransferResult#PENDING_NOT_FOUND}, as if it did
 * not exist (another principal's resource answers 404). Reserved ids are refused
 * ({@link TransferResult#RESERVED_ID}), as on every client entry point of the ledger.
 */
public final class AgentCommands {
    private final Ledger ledger;
    private final LedgerReads reads;

    public AgentCommands(Ledger ledger, LedgerReads reads) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.reads = Objects.requireNonNull(reads, "reads");
    }

    /** Pays {@code amount} of {@code token} from the caller to {@code payee} at once. */
    public TransferReceipt pay(Address caller, TransferId id, Address payee, Address token, Amount amount,
                               String reference) {
        return submit(TransferRequest.single(id, AccountKey.user(caller, token), AccountKey.user(payee, token), amount)
                .withReference(reference));
    }

    /** One payment of {@link #payAll}: to {@code payee}, from the caller. */
    public record Payment(TransferId id, Address payee, Address token, Amount amount, String reference) {
        public Payment {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(payee, "payee");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(amount, "amount");
        }
    }

    /**
     * Pays every payment from the caller in one submission (at most the ledger's
     * {@code maxSubmissionSize}), one receipt each in order: with {@code allOrNone} as one linked
     * group (all commit or none does), else each on its own. Every debit is {@code user(caller, token)}.
     */
    public List<TransferReceipt> payAll(Address caller, List<Payment> payments, boolean allOrNone) {
        Objects.requireNonNull(caller, "caller");
        List<TransferRequest> requests = new java.util.ArrayList<>(payments.size());
        for (int i = 0; i < payments.size(); i++) {
            Payment p = payments.get(i);
            TransferRequest request = TransferRequest.single(p.id(), AccountKey.user(caller, p.token()),
                    AccountKey.user(p.payee(), p.token()), p.amount()).withReference(p.reference());
            requests.add(allOrNone && i < payments.size() - 1 ? request.linkedToNext() : request);
        }
        return requests.isEmpty() ? List.of() : ledger.submitReceipts(requests);
    }

    /** Holds {@code amount} of the caller's {@code token} for {@code payee} until released, refunded or timed out. */
    public TransferReceipt hold(Address caller, TransferId id, Address payee, Address token, Amount amount,
                                long timeoutSeconds, String reference) {
        return submit(TransferRequest.hold(id, AccountKey.user(caller, token), AccountKey.user(payee, token), amount,
                timeoutSeconds).withReference(reference));
    }

    /** Moves {@code amount} of the caller's {@code token} into the account of escrow {@code escrowId}. */
    public TransferReceipt fundEscrow(Address caller, TransferId id, String escrowId, Address token, Amount amount) {
        if (!AccountKey.isValidEscrowId(escrowId)) {
            return TransferReceipt.rejected(id, TransferResult.INVALID_ADDRESS);
        }
        return submit(TransferRequest.single(id, AccountKey.user(caller, token), AccountKey.escrowFunds(escrowId, token),
                amount).withReference("escrow:" + escrowId));
    }

    /** Withdraws {@code amount} of the caller's {@code token}: paid out on chain by the next settlement batch. */
    public TransferReceipt withdraw(Address caller, TransferId id, Address token, Amount amount) {
        return withdraw(caller, id, token, amount, null);
    }

    /** As {@link #withdraw(Address, TransferId, Address, Amount)}, with the caller's reference on the transfer. */
    public TransferReceipt withdraw(Address caller, TransferId id, Address token, Amount amount, String reference) {
        return submit(TransferRequest.single(id, AccountKey.user(caller, token), AccountKey.payouts(token), amount)
                .withReference(reference));
    }

    /** Releases (posts) the caller's own hold to its payee: all of it, or {@code amount} with the rest returned. */
    public TransferReceipt release(Address caller, TransferId id, TransferId holdId, Optional<Amount> amount) {
        Objects.requireNonNull(amount, "amount");
        return resolve(caller, holdId, true, id,
                amount.map(a -> TransferRequest.post(id, holdId, a)).orElseGet(() -> TransferRequest.postFull(id, holdId)));
    }

    /** Refunds (voids) a hold of which the caller is the payee: the held amount returns to the payer. */
    public TransferReceipt refund(Address caller, TransferId id, TransferId holdId) {
        return resolve(caller, holdId, false, id, TransferRequest.voidPending(id, holdId));
    }

    /**
     * Submits {@code request} if the hold is the caller's: as its payer ({@code asPayer}) or payee.
     * Transfers are immutable, so the hold's accounts read here are the ones the writer resolves.
     */
    private TransferReceipt resolve(Address caller, TransferId holdId, boolean asPayer, TransferId id,
                                    TransferRequest request) {
        Objects.requireNonNull(caller, "caller");
        if (holdId.isReserved() || id.isReserved()) {
            return TransferReceipt.rejected(id, TransferResult.RESERVED_ID);
        }
        Read<TransferView> hold = reads.transfer(holdId, 0, Duration.ZERO);
        Optional<TransferRecord> record = hold.get().map(view -> view.transfer());
        boolean mine = record.filter(r -> r.kind() == TransferKind.PENDING)
                .map(r -> asPayer ? r.debit() : r.credit())
                .filter(account -> account.equals(AccountKey.user(caller, account.token())))
                .isPresent();
        if (!mine) {
            return TransferReceipt.rejected(id, TransferResult.PENDING_NOT_FOUND);
        }
        return submit(request);
    }

    private TransferReceipt submit(TransferRequest request) {
        return ledger.submitReceipts(List.of(request)).getFirst();
    }
}
