package dev.agentescrow.backend.escrow.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowRole;
import dev.agentescrow.backend.escrow.EscrowStore;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

/** An escrow as the API shows it: terms, state, payees, what is held and paid, the caller's roles and (in detail) its history. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EscrowView(String id, String custody, String state, String token, String payer, List<PayeeView> payees,
                         String amount, String held, String released, String feesPaid, int feeBps, int maxFeeBps,
                         String arbiter, String evaluator, Instant deadline, long graceSeconds, Instant graceEndsAt,
                         long arbitrationSeconds, Instant arbitrationDeadline, String fallback, boolean atomic,
                         String termsHash, Instant createdAt, Instant updatedAt, List<String> myRoles,
                         List<HistoryView> history) {

    public record PayeeView(int index, String address, String share, String released, String remaining,
                            boolean accepted, Instant acceptedAt) {
    }

    public record TransferPartView(String id, String kind, Integer payeeIndex, String to, String amount,
                                   long ledgerSequence) {
    }

    public record HistoryView(int seq, String action, String actor, String rule, String fromState, String toState,
                              String detail, Instant at, List<TransferPartView> transfers) {
    }

    static EscrowView of(Escrow e, Address viewer, List<EscrowStore.HistoryEntry> history) {
        BigInteger released = e.payees().stream().map(Escrow.Payee::released).reduce(BigInteger.ZERO, BigInteger::add);
        return new EscrowView(e.id(), "ledger", e.state().name(), e.token().checksummed(), e.payer().checksummed(),
                e.payees().stream().map(p -> new PayeeView(p.index(), p.account().checksummed(), p.share().toString(),
                        p.released().toString(), p.remaining().toString(), p.accepted(), p.acceptedAt())).toList(),
                e.amount().toString(), e.held().toString(), released.toString(), e.feesPaid().toString(), e.feeBps(),
                e.maxFeeBps(), e.arbiter().checksummed(), e.evaluator() == null ? null : e.evaluator().checksummed(),
                e.deadline(), e.graceSeconds(), e.graceEnd(), e.arbitrationSeconds(), e.arbitrationDeadline(),
                e.fallback().name(), e.atomic(), e.termsHash(), e.createdAt(), e.updatedAt(),
                e.rolesOf(viewer).stream().map(EscrowRole::name).toList(),
                history == null ? null : history.stream().map(EscrowView::history).toList());
    }

    private static HistoryView history(EscrowStore.HistoryEntry h) {
        String actor = Address.isValid(h.actor()) ? Address.of(h.actor()).checksummed() : h.actor();
        return new HistoryView(h.seq(), h.action().name(), actor, h.rule(), h.from() == null ? null : h.from().name(),
                h.to().name(), h.detail(), h.occurredAt(), h.transfers().stream().map(t -> new TransferPartView(
                        t.transferId().toString(), t.kind(), t.index() < 0 ? null : t.index(),
                        t.account() == null ? null : t.account().checksummed(), t.amount().toString(), t.ledgerSeq()))
                .toList());
    }
}
