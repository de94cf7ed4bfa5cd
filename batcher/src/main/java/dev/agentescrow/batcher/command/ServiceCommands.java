package dev.agentescrow.batcher.command;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.ServiceAudit;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Movements the service makes on a rule rather than on the payer's word: an evaluator's or
 * arbiter's release from an escrow, a split, a refund at the deadline, a scheduled expiry, a fee
 * distribution. Each call names the {@link ServiceRule} and the actor that applied it, and every
 * transfer that commits writes an {@code audit_log} row (actor, rule, object, transfer, token,
 * amount, time) <b>in the same database transaction</b> as the transfer
 * ({@link Ledger#submitAudited}): the row exists exactly when the movement does; a replay with the
 * same ids (EXISTS) writes none, and a unique index on {@code audit_log.transfer_id} refuses a second.
 *
 * <p><b>Never reachable from a client request.</b> This class takes any debit account the rule
 * names (an escrow's, FEES); the service must call it only from its own rule engine (an
 * evaluator's or arbiter's decision checked against the escrow's terms, a scheduler) and never
 * wire it to a controller; client requests reach {@link AgentCommands} only. The backend enforces
 * this with an architecture test.
 */
public final class ServiceCommands {
    /** How long {@link #refundRest} waits for the account rows to include the last commit. */
    private static final Duration CATCH_UP = Duration.ofSeconds(10);

    private final Ledger ledger;
    private final LedgerReads reads;

    public ServiceCommands(Ledger ledger, LedgerReads reads) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.reads = Objects.requireNonNull(reads, "reads");
    }

    /**
     * One part paid out of an escrow (or of a fee account): to a user, or to FEES / PROTOCOL_FEES as
     * the platform's or the protocol's fee.
     */
    public record Share(TransferId id, AccountKey to, Amount amount) {
        public Share {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(amount, "amount");
            if (to.kind() != AccountKind.USER && to.kind() != AccountKind.FEES
                    && to.kind() != AccountKind.PROTOCOL_FEES) {
                throw new IllegalArgumentException("a share goes to a user, FEES or PROTOCOL_FEES: " + to);
            }
        }
    }

    /**
     * Pays {@code shares} out of escrow {@code escrowId}, all or none (a linked group): one share
     * is a (partial) release or a refund, several a split. The escrow account's balance check
     * refuses paying out more than it holds ({@code INSUFFICIENT_FUNDS}); then nothing moves.
     */
    public List<TransferReceipt> payOutOfEscrow(ServiceRule rule, String actor, String escrowId, Address token,
                                                List<Share> shares, String reason) {
        AccountKey escrow = AccountKey.escrowFunds(escrowId, token);
        return execute(rule, actor, "escrow:" + escrowId, reason, linked(escrow, shares, "escrow:" + escrowId));
    }

    /**
     * Returns everything escrow {@code escrowId} still holds to {@code payer} (the refund of the
     * rest), as transfer {@code id}. Empty if nothing is left and {@code id} was never used; a
     * repeat of a committed refund answers its first result (EXISTS).
     */
    public Optional<TransferReceipt> refundRest(ServiceRule rule, String actor, String escrowId, Address token,
                                                Address payer, TransferId id, String reason) {
        AccountKey escrow = AccountKey.escrowFunds(escrowId, token);
        Optional<TransferRecord> earlier = reads.transfer(id, 0, Duration.ZERO).get().map(view -> view.transfer());
        BigInteger amount = earlier.map(TransferRecord::amount).orElseGet(() -> rest(escrow));
        if (amount.signum() <= 0) {
            return Optional.empty();
        }
        TransferRequest refund = TransferRequest.single(id, escrow, AccountKey.user(payer, token), Amount.of(amount))
                .withReference("escrow:" + escrowId);
        return Optional.of(execute(rule, actor, "escrow:" + escrowId, reason, List.of(refund)).getFirst());
    }

    /** What the escrow account holds, including every transfer committed so far. */
    private BigInteger rest(AccountKey escrow) {
        Read<AccountView> read = reads.account(escrow, reads.lastCommittedSeq(), CATCH_UP);
        if (read.status() == Read.Status.NOT_YET) {
            throw new LedgerException("the account rows did not reach the last commit within " + CATCH_UP);
        }
        return read.get().map(AccountView::available).orElse(BigInteger.ZERO);
    }

    /** Posts (all, or {@code amount}) a hold on a rule, e.g. an arbiter's release of a held payment. */
    public TransferReceipt postHold(ServiceRule rule, String actor, String subject, TransferId id, TransferId holdId,
                                    Optional<Amount> amount, String reason) {
        TransferRequest post = amount.map(a -> TransferRequest.post(id, holdId, a))
                .orElseGet(() -> TransferRequest.postFull(id, holdId));
        return execute(rule, actor, subject, reason, List.of(post)).getFirst();
    }

    /** Voids a hold on a rule (a refund decided by an arbiter or a deadline): the held amount returns to its payer. */
    public TransferReceipt voidHold(ServiceRule rule, String actor, String subject, TransferId id, TransferId holdId,
                                    String reason) {
        return execute(rule, actor, subject, reason, List.of(TransferRequest.voidPending(id, holdId))).getFirst();
    }

    /** Pays collected fees of {@code token} out to users, all or none. */
    public List<TransferReceipt> distributeFees(String actor, Address token, List<Share> shares, String reason) {
        return distributeFees(actor, AccountKey.fees(token), shares, reason);
    }

    /**
     * Pays collected fees out of {@code feeAccount} (FEES or PROTOCOL_FEES of one token) to users,
     * all or none (a linked group); the fee account's balance check refuses paying out more than it holds.
     */
    public List<TransferReceipt> distributeFees(String actor, AccountKey feeAccount, List<Share> shares, String reason) {
        if (feeAccount.kind() != AccountKind.FEES && feeAccount.kind() != AccountKind.PROTOCOL_FEES) {
            throw new IllegalArgumentException("fees are distributed out of FEES or PROTOCOL_FEES: " + feeAccount);
        }
        String reference = feeAccount.kind() == AccountKind.FEES ? "fees" : "protocol-fees";
        return execute(ServiceRule.FEE_DISTRIBUTION, actor, reference + ":" + feeAccount.token().hex(), reason,
                linked(feeAccount, shares, reference));
    }

    /**
     * Any rule-driven submission (at most the ledger's submission size): the transfers commit with
     * one audit row each in the same transaction, or nothing does for a rejected one.
     */
    public List<TransferReceipt> execute(ServiceRule rule, String actor, String subject, String reason,
                                         List<TransferRequest> transfers) {
        Objects.requireNonNull(rule, "rule");
        return ledger.submitAudited(transfers, new ServiceAudit(rule.name(), actor, subject, reason));
    }

    private static List<TransferRequest> linked(AccountKey from, List<Share> shares, String reference) {
        if (shares.isEmpty()) {
            throw new IllegalArgumentException("at least one share");
        }
        List<TransferRequest> out = new ArrayList<>(shares.size());
        for (int i = 0; i < shares.size(); i++) {
            Share share = shares.get(i);
            TransferRequest request = TransferRequest.single(share.id(), from, share.to(), share.amount())
                    .withReference(reference);
            out.add(i < shares.size() - 1 ? request.linkedToNext() : request);
        }
        return out;
    }
}
