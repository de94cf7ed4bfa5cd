package dev.agentescrow.backend.fee.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.fee.FeeDistributions;
import dev.agentescrow.backend.fee.FeePeriod;
import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.backend.fee.FeeReports;
import dev.agentescrow.backend.fee.Stakeholder;
import java.time.Instant;
import java.util.List;

/** The fee feature's answers: amounts as decimal strings of base units, addresses EIP-55. */
public final class FeeViews {
    private FeeViews() {
    }

    /** The fees in force for new escrows and payouts (each floored on its own; the payer's maxFeeBps covers both). */
    public record RatesView(int platformBps, int protocolBps, int totalBps, int maxBpsEach, String rounding,
                            boolean setByAdmin) {
        static RatesView of(FeeRates rates, boolean setByAdmin) {
            return new RatesView(rates.platformBps(), rates.protocolBps(), rates.totalBps(), FeeRates.MAX_BPS,
                    "each fee floor(gross * bps / 10000); the remainder stays with the payee", setByAdmin);
        }
    }

    public record StakeholderView(String id, String account, String name, long shares, boolean active,
                                  Instant createdAt, Instant updatedAt) {
        static StakeholderView of(Stakeholder s) {
            return new StakeholderView(s.id(), s.account().checksummed(), s.name(), s.shares(), s.active(),
                    s.createdAt(), s.updatedAt());
        }
    }

    public record StakeholderList(List<StakeholderView> items) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record PeriodView(long number, Instant startsAt, Instant endsAt, String trigger, String actor, String state,
                             Instant plannedAt, Instant distributedAt) {
        static PeriodView of(FeePeriod p) {
            return new PeriodView(p.number(), p.startsAt(), p.endsAt(), p.trigger().name(), p.actor(), p.state().name(),
                    p.plannedAt(), p.distributedAt());
        }
    }

    public record PeriodPage(List<PeriodView> items, String nextCursor) {
    }

    public record CollectedView(String feeType, String token, String source, String amount, long charges) {
    }

    public record TotalView(String feeType, String token, String collected, String carriedIn, String distributed,
                            String carriedOut) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ReceivedView(String stakeholderId, String name, String account, long shares, String token,
                               String feeType, String amount, Long ledgerSequence) {
    }

    /** A period's report: collected by type, token and source; totals per token and type; what each stakeholder received. */
    public record ReportView(PeriodView period, List<CollectedView> collected, List<TotalView> totals,
                             List<ReceivedView> received) {
        static ReportView of(FeeReports.Report r) {
            return new ReportView(PeriodView.of(r.period()),
                    r.collected().stream().map(c -> new CollectedView(c.type().name(), c.token().checksummed(),
                            c.source().name(), c.amount().toString(), c.charges())).toList(),
                    r.totals().stream().map(FeeViews::total).toList(),
                    r.received().stream().map(x -> new ReceivedView(x.stakeholderId(), x.name(),
                            x.account().checksummed(), x.shares(), x.token().checksummed(), x.type().name(),
                            x.amount().toString(), x.ledgerSeq())).toList());
        }
    }

    private static TotalView total(FeeDistributions.Total t) {
        return new TotalView(t.type().name(), t.token().checksummed(), t.collected().toString(), t.carriedIn().toString(),
                t.distributed().toString(), t.carriedOut().toString());
    }
}
