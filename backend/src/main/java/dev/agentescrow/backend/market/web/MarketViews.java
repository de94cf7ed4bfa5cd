package dev.agentescrow.backend.market.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.market.Market;
import dev.agentescrow.backend.market.MarketTask;
import dev.agentescrow.backend.market.Reputation;
import dev.agentescrow.backend.market.ServiceListing;
import dev.agentescrow.backend.market.ServiceRequest;
import dev.agentescrow.chain.Address;
import java.time.Instant;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The marketplace's resources as the API shows them: amounts as decimal strings, addresses EIP-55. */
final class MarketViews {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private MarketViews() {
    }

    /** A service with its record: rating (mean quality score), total requests, success rate (bps). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ServiceView(String id, String provider, String state, List<String> capabilities, String description,
                       String token, String price, String unit, long maxDeliverySeconds, Stats stats,
                       Instant createdAt, Instant updatedAt) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Stats(long totalRequests, long scoredRequests, Long rating, Long successRateBps) {
    }

    /** A request with its escrow's id and, once scored, the performance-pay breakdown. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RequestView(String id, String serviceId, String consumer, String provider, String state, String token,
                       long units, String input, String base, int maxMultiplierBps, String escrowed, String escrowId,
                       long maxDeliverySeconds, Instant createdAt, Instant deadline, Instant completedAt,
                       String resultRef, Instant scoredAt, Integer quality, Integer accuracy, String payout,
                       String refund, JsonNode breakdown, String evaluator, List<String> myRoles,
                       long disputeWindowSeconds, Instant lateDeadline, MarketTaskController.FailureView failure,
                       ClosureView closure) {
    }

    /**
     * How a CLOSED task's or request's escrow ended by the escrow's own rules (EXPIRED, FALLBACK,
     * ARBITER, RELEASED), and when the marketplace recorded it.
     */
    record ClosureView(String how, Instant at) {
        static ClosureView of(MarketTask.Closed closed) {
            return closed == null ? null : new ClosureView(closed.how().name(), closed.at());
        }
    }

    record PriceSuggestionView(String capability, String token, String median, String min, String max,
                               int sampleSize) {
    }

    /** An agent's reputation as a provider: the score, the bonus it earns, and its latest outcomes with their weights. */
    record ReputationView(String agent, int reputationBps, int confidenceBps, int bonusBps, int outcomesCounted,
                          List<OutcomeView> history) {
    }

    /**
     * One outcome of the agent's history: what it was about (a task or request), how it ended, the
     * counterparty whose word it is, and what it counts for now.
     */
    record OutcomeView(String kind, String subjectId, String result, String consumer, Instant scoredAt, int quality,
                       boolean late, int valueBps, long decayBps, long counterpartyBps) {
    }

    record ServicePage(List<ServiceView> items, String nextCursor) {
    }

    record RequestPage(List<RequestView> items, String nextCursor) {
    }

    static ServiceView of(ServiceListing s) {
        return new ServiceView(s.id(), s.provider().checksummed(), s.state().name(), s.capabilities(), s.description(),
                s.token().checksummed(), s.price().toString(), s.unit(), s.maxDeliverySeconds(),
                new Stats(s.totalRequests(), s.scoredRequests(), s.rating(), s.successRateBps()), s.createdAt(),
                s.updatedAt());
    }

    static RequestView of(ServiceRequest r, Address viewer) {
        List<String> roles = r.consumer().equals(viewer) ? List.of("CONSUMER")
                : r.provider().equals(viewer) ? List.of("PROVIDER")
                : viewer.equals(r.evaluator()) ? List.of("EVALUATOR") : List.of("ARBITER");
        return new RequestView(r.id(), r.serviceId(), r.consumer().checksummed(), r.provider().checksummed(),
                r.state().name(), r.token().checksummed(), r.units(), r.input(), r.base().toString(),
                r.maxMultiplierBps(), r.escrowed().toString(), r.escrowId(), r.maxDeliverySeconds(), r.createdAt(),
                r.createdAt().plusSeconds(r.maxDeliverySeconds()), r.completedAt(), r.resultRef(), r.scoredAt(),
                r.quality(), r.accuracy(), r.payout() == null ? null : r.payout().toString(),
                r.refund() == null ? null : r.refund().toString(),
                r.breakdown() == null ? null : JSON.readTree(r.breakdown()),
                r.evaluator() == null ? null : r.evaluator().checksummed(), roles, r.disputeWindowSeconds(),
                r.lateDeadline(), MarketTaskController.FailureView.of(r.failure()), ClosureView.of(r.closed()));
    }

    static ReputationView of(Market.AgentReputation r, Instant now, int historySize) {
        Reputation.Score s = r.score();
        return new ReputationView(r.agent().checksummed(), s.reputationBps(), s.confidenceBps(), s.bonusBps(),
                s.counted(), r.outcomes().stream().limit(historySize).map(recorded -> {
                    Reputation.Outcome o = recorded.outcome();
                    return new OutcomeView(recorded.kind().name(), recorded.subjectId(), recorded.result().name(),
                            Address.of(o.consumer()).checksummed(), o.scoredAt(), o.quality(), o.late(),
                            Reputation.value(o), Reputation.decayBps(java.time.Duration.between(o.scoredAt(), now)),
                            Reputation.counterpartyBps(o.consumerBreadth()));
                }).toList());
    }

    static PriceSuggestionView of(Market.PriceSuggestion p) {
        return new PriceSuggestionView(p.capability(), p.token().checksummed(), p.median().toString(),
                p.min().toString(), p.max().toString(), p.sampleSize());
    }
}
