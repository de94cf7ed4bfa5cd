package dev.agentescrow.backend.workflow;

import dev.agentescrow.backend.escrow.EscrowMoney;
import dev.agentescrow.backend.fee.FeeCharge;
import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.backend.fee.FeeSplit;
import dev.agentescrow.backend.fee.FeeType;
import dev.agentescrow.backend.fee.Fees;
import dev.agentescrow.backend.gateway.LedgerUnavailableException;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.LedgerException;
import dev.agentescrow.batcher.ledger.ServiceAudit;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.read.Read;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/**
 * The workflows' money in the ledger, and the <b>one seam</b> between workflows and the ledger and
 * fee rules. Funding debits the payer's own account through the agents' command layer
 * ({@code AgentCommands.fundEscrow}) into the workflow's own ESCROW_FUNDS account (named by the
 * workflow id), in one transfer: all of the workflow's amount or nothing. Every payout leaves that
 * account: all parts of one change in one linked group (all or none), with an {@code audit_log}
 * row per transfer in the same ledger transaction naming the rule and the actor (the reporter, or
 * {@code service}). The account's balance check keeps every payout within what it holds.
 *
 * <p><b>Fees</b> are the fee feature's ({@link Fees}, docs/fees.md): the rates in force when the
 * workflow is created ({@link #rates}) are fixed for it; each payout is split by {@link #fee}
 * ({@link FeeRates#split}: each fee floored on its own), the platform fee booked into FEES and the
 * protocol fee into PROTOCOL_FEES in the payout's linked group, and {@link #record} stores them
 * (source WORKFLOW) so that they are reported and distributed.
 */
@Component
public class WorkflowMoney {
    private static final Duration CATCH_UP = Duration.ofSeconds(10);

    private final Batcher batcher;
    private final Fees fees;
    private final EscrowMoney escrowMoney;
    private final WorkflowStore store;

    public WorkflowMoney(Batcher batcher, Fees fees, EscrowMoney escrowMoney, WorkflowStore store) {
        this.batcher = batcher;
        this.fees = fees;
        this.escrowMoney = escrowMoney;
        this.store = store;
    }

    /** Whether this instance writes the ledger now (the batcher's leader). */
    public boolean writes() {
        return batcher.role() == Role.LEADER;
    }

    /** The fees a new workflow gets (the fee feature's rates in force). */
    public FeeRates rates() {
        return fees.rates();
    }

    /** A gross payout of {@code w} split into the agent's net and the two fees at the workflow's rates. */
    public FeeSplit fee(BigInteger gross, Workflow w) {
        return new FeeRates(w.feeBps(), w.protocolFeeBps()).split(gross);
    }

    /** Stores the fees a payout booked (in the caller's database transaction; idempotent by transfer id). */
    public void record(List<FeeCharge> charges) {
        if (!charges.isEmpty()) {
            fees.record(charges);
        }
    }

    /** Moves the workflow's whole {@code amount} of the payer's {@code token} into the workflow's account. */
    public TransferReceipt fund(Address payer, String workflowId, Address token, BigInteger amount) {
        TransferId id = WorkflowIds.transfer(payer, workflowId, "fund");
        return guarded(() -> batcher.agentCommands().fundEscrow(payer, id, workflowId, token, Amount.of(amount)));
    }

    /** Pays {@code payouts} out of the workflow's account in one linked group; a receipt per payout, in order. */
    public List<TransferReceipt> payOut(Workflow w, List<WorkflowRules.Payout> payouts, String rule, String actor,
                                        String reason) {
        AccountKey from = AccountKey.escrowFunds(w.id(), w.token());
        String salt = store.transferSalt(w.id());
        List<TransferRequest> transfers = new ArrayList<>();
        for (int i = 0; i < payouts.size(); i++) {
            WorkflowRules.Payout payout = payouts.get(i);
            AccountKey to = switch (payout.kind()) {
                case FEE -> FeeType.PLATFORM.account(w.token());
                case PROTOCOL_FEE -> FeeType.PROTOCOL.account(w.token());
                case AGENT, PAYER, SURPLUS -> AccountKey.user(payout.to(), w.token());
            };
            TransferRequest request = TransferRequest.single(WorkflowIds.transfer(w.payer(), w.id(), salt, WorkflowIds.part(payout)),
                    from, to, Amount.of(payout.amount())).withReference("workflow:" + w.id());
            transfers.add(i < payouts.size() - 1 ? request.linkedToNext() : request);
        }
        ServiceAudit audit = new ServiceAudit(rule, actor, "workflow:" + w.id(), reason);
        return guarded(() -> batcher.ledger().submitAudited(transfers, audit));
    }

    /** What the workflow's ledger account holds, with every transfer committed so far. */
    public BigInteger held(Workflow w) {
        LedgerReads reads = batcher.reads();
        Read<AccountView> read = guarded(() -> reads.account(AccountKey.escrowFunds(w.id(), w.token()),
                reads.lastCommittedSeq(), CATCH_UP));
        if (read.status() == Read.Status.NOT_YET) {
            throw new LedgerUnavailableException("the account rows did not reach the last commit within " + CATCH_UP,
                    null);
        }
        return read.get().map(AccountView::available).orElse(BigInteger.ZERO);
    }

    /** The committed transfers of {@code parts} of the workflow, by part (a part not committed is absent). */
    public Map<String, TransferRecord> committed(Workflow w, List<String> parts) {
        String salt = store.transferSalt(w.id());
        Map<String, TransferRecord> found = new LinkedHashMap<>();
        for (String part : parts) {
            escrowMoney.committed(WorkflowIds.transfer(w.payer(), w.id(), salt, part))
                    .ifPresent(r -> found.put(part, r));
        }
        return found;
    }

    private static <T> T guarded(Supplier<T> call) {
        try {
            return call.get();
        } catch (LedgerException | NotLeaderException e) {
            throw new LedgerUnavailableException(e.getMessage(), e);
        }
    }
}
