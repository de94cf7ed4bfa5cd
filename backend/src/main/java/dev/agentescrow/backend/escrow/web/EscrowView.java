package dev.agentescrow.backend.escrow.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.escrow.ChainEscrows;
import dev.agentescrow.backend.escrow.ChainSends;
import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowRole;
import dev.agentescrow.backend.escrow.EscrowStore;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

/**
 * An escrow as the API shows it: terms, state, payees, what is held and paid, the caller's roles and
 * (in detail) its history. {@code feeBps} is the platform fee, {@code protocolFeeBps} the protocol
 * fee (both fixed at creation), {@code feesPaid} both fees taken so far; {@code feeSource} what the
 * escrow funds (ESCROW, REQUEST, TASK, WORKFLOW).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EscrowView(String id, String custody, String state, String token, String payer, List<PayeeView> payees,
                         String amount, String held, String released, String feesPaid, int feeBps, int protocolFeeBps,
                         String feeSource, int maxFeeBps,
                         String arbiter, String evaluator, Instant deadline, long graceSeconds, Instant graceEndsAt,
                         long arbitrationSeconds, Instant arbitrationDeadline, String fallback, boolean atomic,
                         String termsHash, Instant createdAt, Instant updatedAt, List<String> myRoles,
                         List<HistoryView> history, ChainView chain) {

    /**
     * Where a chain escrow lives on chain, and what the caller signs and sends next.
     *
     * @param escrowId the TaskEscrow's id of the escrow (keccak256(abi.encode(payer, taskId)))
     * @param funding while PENDING_FUNDING, on create and {@code GET /{id}/funding}: the permit and calls
     * @param calls the calls of the action just asked for, to sign and send from {@code from}
     * @param typedData EIP-712 data to sign for the action (a payee's acceptance)
     * @param sent the service's own transaction for the action (the arbiter's resolution, a relayed acceptance)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ChainView(String contract, long chainId, String escrowId, String taskId, Instant permitDeadline,
                            FundingView funding, List<CallView> calls, List<ChainEscrows.TypedData> typedData,
                            SentView sent) {
    }

    /** A call to sign and send: value in wei, data ABI-encoded. */
    public record CallView(String to, String data, String value, String from, String function) {
        static CallView of(ChainEscrows.Call call) {
            return call == null ? null : new CallView(call.to().checksummed(), call.data(), call.value().toString(),
                    call.from().checksummed(), call.function());
        }
    }

    /**
     * The funding of a pending chain escrow: sign {@code permit}, then send {@code createWithPermit}
     * (its data is complete when asked for with {@code permitSignature}); or approve and send {@code create}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FundingView(ChainEscrows.TypedData permit, CallView createWithPermit, List<String> createWithPermitArgs,
                              CallView create) {
        static FundingView of(ChainEscrows.Funding funding) {
            return new FundingView(funding.permit(), CallView.of(funding.createWithPermit()),
                    funding.createWithPermitArgs(), CallView.of(funding.create()));
        }
    }

    public record SentView(String purpose, String txHash, String state, Long blockNumber) {
        static SentView of(ChainSends.Sent sent) {
            return sent == null ? null : new SentView(sent.purpose(), sent.txHash().value(), sent.state().name(),
                    sent.blockNumber());
        }
    }

    public record PayeeView(int index, String address, String share, String released, String remaining,
                            boolean accepted, Instant acceptedAt) {
    }

    public record TransferPartView(String id, String kind, Integer payeeIndex, String to, String amount,
                                   long ledgerSequence) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HistoryView(int seq, String action, String actor, String rule, String fromState, String toState,
                              String detail, Instant at, List<TransferPartView> transfers, String txHash,
                              Long blockNumber) {
    }

    static EscrowView of(Escrow e, Address viewer, List<EscrowStore.HistoryEntry> history) {
        return of(e, viewer, history, null);
    }

    /** The escrow; a chain escrow when {@code chain} is given. */
    static EscrowView of(Escrow e, Address viewer, List<EscrowStore.HistoryEntry> history, ChainView chain) {
        BigInteger released = e.payees().stream().map(Escrow.Payee::released).reduce(BigInteger.ZERO, BigInteger::add);
        return new EscrowView(e.id(), chain == null ? "ledger" : "chain", e.state().name(), e.token().checksummed(), e.payer().checksummed(),
                e.payees().stream().map(p -> new PayeeView(p.index(), p.account().checksummed(), p.share().toString(),
                        p.released().toString(), p.remaining().toString(), p.accepted(), p.acceptedAt())).toList(),
                e.amount().toString(), e.held().toString(), released.toString(), e.feesPaid().toString(), e.feeBps(),
                e.protocolFeeBps(), e.feeSource().name(), e.maxFeeBps(), e.arbiter().checksummed(), e.evaluator() == null ? null : e.evaluator().checksummed(),
                e.deadline(), e.graceSeconds(), e.graceEnd(), e.arbitrationSeconds(), e.arbitrationDeadline(),
                e.fallback().name(), e.atomic(), e.termsHash(), e.createdAt(), e.updatedAt(),
                e.rolesOf(viewer).stream().map(EscrowRole::name).toList(),
                history == null ? null : history.stream().map(EscrowView::history).toList(), chain);
    }

    private static HistoryView history(EscrowStore.HistoryEntry h) {
        String actor = Address.isValid(h.actor()) ? Address.of(h.actor()).checksummed() : h.actor();
        return new HistoryView(h.seq(), h.action().name(), actor, h.rule(), h.from() == null ? null : h.from().name(),
                h.to().name(), h.detail(), h.occurredAt(), h.transfers().stream().map(t -> new TransferPartView(
                        t.transferId().toString(), t.kind(), t.index() < 0 ? null : t.index(),
                        t.account() == null ? null : t.account().checksummed(), t.amount().toString(), t.ledgerSeq()))
                .toList(), h.txHash(), h.blockNumber());
    }
}
