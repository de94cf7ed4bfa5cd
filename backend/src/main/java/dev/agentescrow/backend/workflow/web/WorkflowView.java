package dev.agentescrow.backend.workflow.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.workflow.Step;
import dev.agentescrow.backend.workflow.StepAuction;
import dev.agentescrow.backend.workflow.Workflow;
import dev.agentescrow.backend.workflow.WorkflowStore;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

/**
 * A workflow as the API shows it: its terms, the DAG of its steps with each one's state, share
 * (the split), what each was paid (net, and its fee) or refunded, the totals, and every ledger
 * transfer it made.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkflowView(String id, String state, String mode, String split, String token, String payer,
                           String evaluator, String amount, String held, String paid, String fees, String refunded,
                           int platformFeeBps, int protocolFeeBps, int maxFeeBps, Integer maxMultiplierBps, Instant createdAt, Instant updatedAt,
                           List<StepView> steps, List<TransferView> transfers) {

    /**
     * One step: {@code share} null until known (an EXECUTION_TIME split, computed when the last step
     * succeeds); {@code agent} null while an auctioned step is not allocated; {@code auction} for a
     * step left to the marketplace's auction.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record StepView(String key, String agent, String capability, Instant deadline, List<String> dependsOn,
                           String weight, String share, String state, Instant startedAt, Instant finishedAt,
                           String reportedBy, String reason, String paid, String fee, String refunded,
                           Integer quality, Integer accuracy, String performance, AuctionView auction) {
        static StepView of(Step s) {
            return new StepView(s.key(), s.hasAgent() ? s.agent().checksummed() : null, s.capability(), s.deadline(),
                    s.dependsOn(), s.weight().toString(), str(s.share()), s.state().name(), s.startedAt(),
                    s.finishedAt(), reporter(s.reportedBy()), s.reason(), s.paid().toString(), s.fee().toString(),
                    s.refunded().toString(), s.quality(), s.accuracy(), s.performance(),
                    s.auctioned() ? AuctionView.of(s) : null);
        }
    }

    /**
     * An auctioned step's auction: its budget (held up front), the highest base price a bid may ask,
     * the window; once closed, the number of bids (sealed until then), the winner, the Vickrey
     * clearing base price, whether the reserve applied (a single bid), and the surplus refunded.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record AuctionView(String state, String budget, String maxBasePrice, Instant biddingClosesAt,
                              Instant closedAt, Integer bids, String winner, String price, Boolean reserveApplied,
                              String surplus) {
        static AuctionView of(Step s) {
            StepAuction a = s.auction();
            return new AuctionView(a.state(), a.budget().toString(), a.maxBasePrice().toString(), a.biddingClosesAt(),
                    a.closedAt(), a.bids(), a.allocated() ? s.agent().checksummed() : null, str(a.price()),
                    a.reserveApplied(), str(a.surplus()));
        }
    }

    /**
     * A ledger transfer: FUND (payer to the workflow), AGENT (net payout), FEE, PROTOCOL_FEE, PAYER
     * (refund), SURPLUS (an auctioned step's budget above its cost); {@code step} null for all.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TransferView(String transferId, String kind, String step, String account, String amount,
                               long sequence, Instant occurredAt) {
    }

    static WorkflowView of(Workflow w, List<WorkflowStore.TransferRow> transfers) {
        return new WorkflowView(w.id(), w.state().name(), w.mode().name(), w.split().name(), w.token().checksummed(),
                w.payer().checksummed(), w.evaluator() == null ? null : w.evaluator().checksummed(), w.amount().toString(),
                w.held().toString(), w.paid().toString(), w.fees().toString(), w.refunded().toString(), w.feeBps(),
                w.protocolFeeBps(), w.maxFeeBps(), w.maxMultiplierBps(), w.createdAt(), w.updatedAt(), w.steps().stream().map(StepView::of).toList(),
                transfers.stream().map(t -> new TransferView(t.transferId().toString(), t.kind(),
                        t.index() < 0 ? null : w.steps().get(t.index()).key(),
                        t.account() == null ? null : t.account().checksummed(), t.amount().toString(), t.ledgerSeq(),
                        t.occurredAt())).toList());
    }

    private static String str(BigInteger value) {
        return value == null ? null : value.toString();
    }

    private static String reporter(String by) {
        return by != null && by.startsWith("0x") ? Address.of(by).checksummed() : by;
    }
}
