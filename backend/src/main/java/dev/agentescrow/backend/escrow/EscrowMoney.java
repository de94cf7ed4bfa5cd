package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.fee.FeeType;
import dev.agentescrow.backend.gateway.LedgerUnavailableException;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.ServiceAudit;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/**
 * The escrows' money in the ledger. Funding debits the payer's own account through the agents'
 * command layer ({@code AgentCommands.fundEscrow}); every payout is an ordinary transfer out of the
 * escrow's ESCROW_FUNDS account, all parts of one action in one linked group (all or none), with
 * an {@code audit_log} row per transfer in the same transaction: rule-driven payouts (evaluator,
 * arbiter, expiry, fallback) through {@code ServiceCommands} with their {@code ServiceRule}, the
 * payer's own (release, cancel, refund) as the payer's decision. The escrow account's balance
 * check keeps every payout within what it holds. The batcher is asked for its command layers at
 * each call: they exist on the leader only, and the leader may change.
 */
@Component
public class EscrowMoney {
    private static final Duration CATCH_UP = Duration.ofSeconds(10);

    private final Batcher batcher;

    public EscrowMoney(Batcher batcher) {
        this.batcher = batcher;
    }

    /** Moves {@code amount} of the payer's {@code token} into the escrow's account. */
    public TransferReceipt fund(Address payer, TransferId id, String escrowId, Address token, BigInteger amount) {
        return guarded(() -> batcher.agentCommands().fundEscrow(payer, id, escrowId, token, Amount.of(amount)));
    }

    /**
     * Pays the plan's payouts out of the escrow's account in one linked group, transfer
     * {@code ids[i]} for payout {@code i}; a receipt per payout, in order.
     */
    public List<TransferReceipt> payOut(Escrow e, EscrowRules.Plan plan, List<TransferId> ids, String actor,
                                        String reason) {
        AccountKey from = AccountKey.escrowFunds(e.id(), e.token());
        List<TransferRequest> transfers = new ArrayList<>();
        for (int i = 0; i < plan.payouts().size(); i++) {
            EscrowRules.Payout payout = plan.payouts().get(i);
            AccountKey to = switch (payout.kind()) {
                case PAYEE, PAYER -> AccountKey.user(payout.to(), e.token());
                case FEE -> FeeType.PLATFORM.account(e.token());
                case PROTOCOL_FEE -> FeeType.PROTOCOL.account(e.token());
            };
            TransferRequest request = TransferRequest.single(ids.get(i), from, to, Amount.of(payout.amount()))
                    .withReference("escrow:" + e.id());
            transfers.add(i < plan.payouts().size() - 1 ? request.linkedToNext() : request);
        }
        String subject = "escrow:" + e.id();
        if (plan.rule() != null) {
            return guarded(() -> batcher.serviceCommands().execute(plan.rule(), actor, subject, reason, transfers));
        }
        ServiceAudit audit = new ServiceAudit(plan.payerRule(), actor, subject, reason);
        return guarded(() -> batcher.ledger().submitAudited(transfers, audit));
    }

    /** What the escrow's ledger account holds, with every transfer committed so far (a read, on any instance). */
    public BigInteger held(Escrow e) {
        LedgerReads reads = batcher.reads();
        Read<AccountView> read = guarded(() -> reads.account(AccountKey.escrowFunds(e.id(), e.token()),
                reads.lastCommittedSeq(), CATCH_UP));
        if (read.status() == Read.Status.NOT_YET) {
            throw new LedgerUnavailableException("the account rows did not reach the last commit within " + CATCH_UP,
                    null);
        }
        return read.get().map(AccountView::available).orElse(BigInteger.ZERO);
    }

    /** The committed transfer with this id, if any. */
    public Optional<TransferRecord> committed(TransferId id) {
        return guarded(() -> batcher.reads().transfer(id, 0, Duration.ZERO)).get().map(view -> view.transfer());
    }

    private static <T> T guarded(Supplier<T> call) {
        try {
            return call.get();
        } catch (LedgerException | NotLeaderException e) {
            throw new LedgerUnavailableException(e.getMessage(), e);
        }
    }
}
