package dev.agentescrow.backend.market;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowState;
import dev.agentescrow.backend.escrow.Escrows;
import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.backend.escrow.FallbackRule;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The service catalogue and direct requests (docs/marketplace.md).
 *
 * <p><b>Money.</b> A request's money is a ledger escrow of the escrow feature ({@link Escrows}),
 * created for the consumer and accepted for the provider (the listing is its acceptance) in the
 * same database transaction as the request row: no escrow, no request. Scoring pays the provider
 * by {@link PerformancePay} out of that escrow and refunds the rest to the consumer.
 *
 * <p><b>Wrapped, not built into the escrow.</b> The escrow's state machine has no "release part
 * and refund the rest now" for the payer before the deadline. A full payout is the payer's
 * release of everything; a partial one goes through the escrow's own split: the consumer disputes
 * (in its own transaction, so that a crash leaves a state the retry resumes from), then the
 * marketplace's arbiter resolves with the performance split, in the transaction that marks the
 * request SCORED. The escrow's history shows DISPUTED and RESOLVED with the reason.
 *
 * <p><b>Exactly once.</b> Every action locks the request's row first: concurrent completions or
 * scorings queue, and the second finds the state moved (409). The escrow's transfer ids derive
 * from its id and version, so a retried payout is answered EXISTS by the ledger.
 */
@Component
public class Market {
    private final MarketStore store;
    private final Escrows escrows;
    private final AuditLog audit;
    private final EventPublisher events;
    private final MarketSettings settings;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final PerformanceSettlement settlement;
    private final MarketFailures failures;
    /** The requests' names and rows in the failure flow shared with tasks. */
    private final MarketFailures.Kind<ServiceRequest> kind;
    /** The actor of the request's settlements in the audit log (no principal triggers them). */
    static final String AUDITOR = "market-schedule";

    public Market(MarketStore store, Escrows escrows, AuditLog audit, EventPublisher events, MarketSettings settings,
                  Clock clock, DataSource dataSource, PerformanceSettlement settlement, MarketFailures failures) {
        this.settlement = settlement;
        this.failures = failures;
        this.kind = new MarketFailures.Kind<>("request", "requestId", "MARKET_REQUEST", AUDITOR,
                MarketStore.OutcomeKind.REQUEST, store::lockRequest, store::update, ServiceRequest::isParty, "consumer",
                "provider", "MARKET_CONSUMER_ONLY", "MARKET_PROVIDER_ONLY", "MARKET_REQUEST_FAILED",
                // a failure or an arbiter's split is a verdict on the service's work: its record moves (never a success)
                (r, quality) -> store.recordOutcome(r.serviceId(), quality, false));
        this.store = store;
        this.escrows = escrows;
        this.audit = audit;
        this.events = events;
        this.settings = settings;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** The outcome of a command: the value after it, or a refusal (HTTP status, stable code, message). */
    public record Result<T>(T value, int status, String code, String message) {
        static <T> Result<T> ok(T value) {
            return new Result<>(value, 200, null, null);
        }

        static <T> Result<T> refused(int status, String code, String message) {
            return new Result<>(null, status, code, message);
        }

        public boolean ok() {
            return value != null;
        }
    }

    /** A service's terms, checked field by field already; {@code unit} null for a price per request. */
    public record Terms(List<String> capabilities, String description, Address token, BigInteger price, String unit,
                        long maxDeliverySeconds) {
    }

    /** The median and range of recent prices of a capability; empty when none was scored yet. */
    public record PriceSuggestion(String capability, Address token, BigInteger median, BigInteger min, BigInteger max,
                                  int sampleSize) {
    }

    /** The arbiter of marketplace escrows: the market's own setting, else the escrows' platform arbiter. */
    public Optional<Address> arbiter() {
        String own = settings.arbiter();
        return own == null || own.isBlank() ? escrows.platformArbiter() : Optional.of(Address.of(own));
    }

    // ------------------------------------------------------------------ services

    /** Registers a service; its id derives from (provider, Idempotency-Key), so a retry finds the same one. */
    public Result<ServiceListing> register(Address provider, String idempotencyKey, Terms terms) {
        Instant now = clock.instant();
        String id = MarketIds.serviceId(provider, idempotencyKey);
        ServiceListing listing = new ServiceListing(id, provider, ServiceListing.State.ACTIVE, terms.capabilities(),
                terms.description(), terms.token(), terms.price(), terms.unit(), terms.maxDeliverySeconds(), 0, 0, 0, 0,
                now, now, 0);
        return tx.execute(status -> {
            if (!store.insert(listing)) {
                ServiceListing existing = store.findService(id).orElseThrow();
                return sameTerms(existing, terms) ? Result.ok(existing) : Result.refused(422, "MARKET_ID_CONFLICT",
                        "a service with other terms was registered under this Idempotency-Key");
            }
            audit.record(provider.hex(), "MARKET_SERVICE_REGISTERED", "market_service", id, terms.token().hex(),
                    terms.price());
            return Result.ok(store.findService(id).orElseThrow());
        });
    }

    private static boolean sameTerms(ServiceListing s, Terms t) {
        return s.capabilities().equals(t.capabilities()) && s.description().equals(t.description())
                && s.token().equals(t.token()) && s.price().equals(t.price())
                && java.util.Objects.equals(s.unit(), t.unit()) && s.maxDeliverySeconds() == t.maxDeliverySeconds();
    }

    /** The provider replaces its service's terms (the token stays); new requests use them, running ones keep theirs. */
    public Result<ServiceListing> update(String id, Address caller, Terms terms) {
        return tx.execute(status -> {
            Optional<ServiceListing> locked = store.lockService(id, false).filter(l -> l.provider().equals(caller));
            if (locked.isEmpty()) {
                return Result.refused(404, "NOT_FOUND", "service not found");
            }
            ServiceListing s = locked.get();
            if (s.state() == ServiceListing.State.WITHDRAWN) {
                return Result.refused(409, "MARKET_SERVICE_WITHDRAWN", "the service was withdrawn");
            }
            if (!s.token().equals(terms.token())) {
                return Result.refused(422, "MARKET_TOKEN_FIXED", "a service's token cannot change; register another");
            }
            ServiceListing updated = s.withTerms(terms.capabilities(), terms.description(), terms.price(),
                    terms.unit(), terms.maxDeliverySeconds(), clock.instant());
            store.update(updated);
            audit.record(caller.hex(), "MARKET_SERVICE_UPDATED", "market_service", id, s.token().hex(), terms.price());
            return Result.ok(updated);
        });
    }

    /** The provider withdraws its service: no new requests; running ones go on. Withdrawing twice answers the same. */
    public Result<ServiceListing> withdraw(String id, Address caller) {
        return tx.execute(status -> {
            ServiceListing s = store.lockService(id, false).filter(l -> l.provider().equals(caller)).orElse(null);
            if (s == null) {
                return Result.refused(404, "NOT_FOUND", "service not found");
            }
            if (s.state() == ServiceListing.State.WITHDRAWN) {
                return Result.ok(s);
            }
            ServiceListing withdrawn = s.withdrawn(clock.instant());
            store.update(withdrawn);
            audit.record(caller.hex(), "MARKET_SERVICE_WITHDRAWN", "market_service", id, s.token().hex(), null);
            return Result.ok(withdrawn);
        });
    }

    public Optional<ServiceListing> service(String id) {
        return store.findService(id);
    }

    public List<ServiceListing> search(String capability, Address token, Address provider, long before, int limit) {
        return store.search(capability, token, provider, before, limit);
    }

    /**
     * The suggested price of a capability in a token: the median (the lower middle of an even
     * sample) and the range of the per-request (or per-unit) base prices of the most recently
     * scored requests to services with that capability.
     */
    public Optional<PriceSuggestion> suggestPrice(String capability, Address token) {
        List<BigInteger> prices = new ArrayList<>(store.recentPrices(capability, token, settings.suggestionSample()));
        if (prices.isEmpty()) {
            return Optional.empty();
        }
        prices.sort(null);
        return Optional.of(new PriceSuggestion(capability, token, prices.get((prices.size() - 1) / 2), prices.getFirst(),
                prices.getLast(), prices.size()));
    }

    /** An agent's reputation as a provider now, with the outcomes it comes from (newest first). */
    public record AgentReputation(Address agent, Reputation.Score score, List<MarketStore.RecordedOutcome> outcomes) {
    }

    /** The agent's reputation from every outcome of its tasks and requests ({@link Reputation}'s rules). */
    public AgentReputation reputation(Address agent) {
        List<MarketStore.RecordedOutcome> outcomes = store.outcomes(agent);
        return new AgentReputation(agent, Reputation.of(agent.hex(), outcomes.stream()
                .map(MarketStore.RecordedOutcome::outcome).toList(), clock.instant()), outcomes);
    }

    /** The agent's reputation bonus (0-1,000 bps): its performance-pay bonus and its auction discount. */
    public int reputationBonus(Address agent) {
        return reputation(agent).score().bonusBps();
    }

    /**
     * The agent's reputation bonus as it stood at {@code asOf}: from the outcomes recorded by then,
     * decayed to then. A fixed instant gives the same bonus whenever it is asked (an auction ranks
     * its bids as of its close, so an allocation retried after a crash ranks them the same).
     */
    public int reputationBonusAsOf(Address agent, Instant asOf) {
        return Reputation.of(agent.hex(), store.outcomes(agent, asOf).stream()
                .map(MarketStore.RecordedOutcome::outcome).toList(), asOf).bonusBps();
    }

    // ------------------------------------------------------------------ requests

    /**
     * What a consumer asks of a service; {@code evaluator} (null: the consumer) scores the result;
     * {@code maxBase} (null: any) the most the consumer accepts as the base.
     */
    public record Order(long units, String input, int maxMultiplierBps, Address evaluator, long disputeWindowSeconds,
                        BigInteger maxBase) {
    }

    /**
     * Creates a request and its escrow in one transaction: the escrow holds
     * {@code floor(cost * maxMultiplierBps / 10,000)} from the consumer for the provider, accepted
     * for the provider by its listing, under the marketplace's arbiter, until twice the maximum
     * delivery time (the second half is the late window, paid 0.75x).
     */
    public Result<ServiceRequest> request(String serviceId, Address consumer, String idempotencyKey, Order order) {
        String id = MarketIds.requestId(consumer, idempotencyKey);
        return tx.execute(status -> {
            Optional<ServiceRequest> existing = store.findRequest(id);
            if (existing.isPresent()) {
                return existing.get().serviceId().equals(serviceId) ? Result.ok(existing.get())
                        : Result.<ServiceRequest>refused(422, "MARKET_ID_CONFLICT",
                        "a request to another service was made under this Idempotency-Key");
            }
            Optional<ServiceListing> locked = store.lockService(serviceId, true);
            if (locked.isEmpty()) {
                return Result.refused(404, "NOT_FOUND", "service not found");
            }
            ServiceListing s = locked.get();
            if (s.state() != ServiceListing.State.ACTIVE) {
                return Result.refused(409, "MARKET_SERVICE_WITHDRAWN", "the service was withdrawn");
            }
            if (s.provider().equals(consumer)) {
                return Result.refused(422, "MARKET_SELF_REQUEST", "a provider cannot request its own service");
            }
            if (order.evaluator() != null && order.evaluator().equals(s.provider())) {
                return Result.refused(422, "MARKET_EVALUATOR_IS_PARTY", "the provider cannot evaluate its own work");
            }
            if (s.unit() == null && order.units() != 1) {
                return Result.refused(422, "MARKET_UNITS_NOT_PRICED", "the service is priced per request: units is 1");
            }
            Optional<Address> arbiter = arbiter();
            if (arbiter.isEmpty()) {
                return Result.refused(503, "MARKET_NO_ARBITER", "the service has no marketplace arbiter configured");
            }
            if (arbiter.get().equals(consumer) || arbiter.get().equals(s.provider())) {
                return Result.refused(422, "MARKET_ARBITER_IS_PARTY", "the platform's arbiter cannot be a party");
            }
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            BigInteger base = s.cost(order.units());
            if (order.maxBase() != null && base.compareTo(order.maxBase()) > 0) {
                // under the service's shared lock: a price update (exclusive) is before or after, never between
                return Result.refused(422, "MARKET_PRICE_ABOVE_MAX_BASE", "the cost is " + base + " (price "
                        + s.price() + (s.unit() == null ? "" : " per " + s.unit()) + "), above maxBase "
                        + order.maxBase());
            }
            BigInteger escrowed = PerformancePay.escrowFor(base, order.maxMultiplierBps());
            if (escrowed.compareTo(Amount.MAX_UINT256) > 0) {
                return Result.refused(422, "MARKET_AMOUNT_TOO_LARGE", "the escrow (price times units times the largest"
                        + " multiplier) would be " + escrowed + ", above 2^256 - 1");
            }
            String termsHash = MarketIds.termsHash(id, serviceId, order.units(), order.input(), base.toString(),
                    order.maxMultiplierBps());
            Escrows.Terms terms = new Escrows.Terms(s.token(), List.of(s.provider()), List.of(escrowed),
                    now.plusSeconds(2 * s.maxDeliverySeconds()), escrows.settings().defaultGrace().toSeconds(),
                    escrows.settings().defaultArbitration().toSeconds(), arbiter.get(), null, termsHash, true,
                    escrows.totalFeeBps(), FallbackRule.REFUND_PAYER, FeeSource.REQUEST);
            Escrows.Result created = escrows.create(consumer, MarketIds.escrowKey(id), terms);
            if (!created.ok()) {
                status.setRollbackOnly();
                return Result.refused(created.status(), created.code(), created.message());
            }
            String escrowId = created.escrow().id();
            Escrows.Result accepted = escrows.accept(escrowId, s.provider());
            if (!accepted.ok()) {
                status.setRollbackOnly();
                return Result.refused(409, "MARKET_ESCROW_REFUSED", "the escrow refused the provider's acceptance: "
                        + accepted.code());
            }
            ServiceRequest request = new ServiceRequest(id, serviceId, consumer, s.provider(),
                    ServiceRequest.State.ESCROWED, s.token(), order.units(), order.input(), base,
                    order.maxMultiplierBps(), escrowed, escrowId, s.maxDeliverySeconds(), now, null, null, null, null,
                    null, null, null, null, evaluator(order.evaluator(), consumer), order.disputeWindowSeconds(), null,
                    null, 0);
            store.insert(request);
            store.countRequest(serviceId);
            audit.record(consumer.hex(), "MARKET_REQUEST_CREATED", "market_request", id, s.token().hex(), escrowed);
            events.publish(EventType.MARKET_REQUEST_CREATED, List.of(s.provider(), consumer), id, Map.of(
                    "requestId", id, "serviceId", serviceId, "escrowId", escrowId, "consumer", consumer.checksummed(),
                    "provider", s.provider().checksummed(), "token", s.token().checksummed(), "base", base.toString(),
                    "escrowed", escrowed.toString(), "units", order.units()));
            return Result.ok(store.findRequest(id).orElseThrow());
        });
    }

    private static Address evaluator(Address named, Address payer) {
        return named == null || named.equals(payer) ? null : named;
    }

    /**
     * The request if {@code who} is its consumer, provider or evaluator (else empty: another
     * principal's is not found), after whatever was due on it ({@link #settle}).
     */
    public Optional<ServiceRequest> visible(String id, Address who) {
        return catchUp(id).filter(r -> sees(r, who));
    }

    /** Whether {@code who} may see the request: a party, or the arbiter of its escrow (who decides its disputes). */
    private boolean sees(ServiceRequest r, Address who) {
        return r.isParty(who) || escrows.find(r.escrowId()).map(e -> e.arbiter().equals(who)).orElse(false);
    }

    private Optional<ServiceRequest> catchUp(String id) {
        Optional<ServiceRequest> found = store.findRequest(id);
        if (found.isPresent() && failures.due(found.get(), clock.instant())) {
            return Optional.of(settle(id));
        }
        return found;
    }

    /** Settles every running request with something due (the leader's schedule); how many reached a final state. */
    public int settleDue(int limit) {
        return failures.settleAll(kind, store.dueRequests(clock.instant(), limit));
    }

    /**
     * Whatever is due on a running request, under its lock, in one transaction, with the tasks' rules
     * ({@link MarketFailures#settle}): not delivered by the end of its late window (its escrow's
     * deadline) it has missed it (FAILED, the consumer refunded at once, outcome
     * {@code DEADLINE_MISSED}); a reported failure undisputed in its window is refunded; an escrow
     * whose grace or arbitration period ended gets its own due move; an escrow that ended another way
     * makes the request CLOSED (or FAILED, RESOLVED) from the escrow's state. Idempotent.
     */
    public ServiceRequest settle(String id) {
        return failures.settle(kind, id);
    }

    // ------------------------------------------------------------------ failure, dispute, arbiter (MarketFailures)

    /**
     * The consumer (or the request's evaluator) reports that the work failed, from ESCROWED or
     * COMPLETED: the consumer's escrow is disputed in the same transaction; the provider may dispute
     * within the request's dispute window; undisputed, the consumer is refunded after it. Once.
     */
    public Result<ServiceRequest> reportFailure(String id, Address caller, String detail) {
        catchUp(id);
        return failures.report(kind, id, caller, detail);
    }

    /** The provider disputes a reported failure before its window ends: the platform's arbiter decides. Once. */
    public Result<ServiceRequest> dispute(String id, Address caller, String detail) {
        catchUp(id);
        return failures.dispute(kind, id, caller, detail);
    }

    /** The platform's arbiter decides a disputed request: {@code toProvider} to the provider, the rest back. Once. */
    public Result<ServiceRequest> decide(String id, Address caller, BigInteger toProvider) {
        return failures.decide(kind, id, caller, toProvider);
    }

    public List<ServiceRequest> requests(Address who, MarketStore.RequestRole role, long before, int limit) {
        return store.requests(who, role, before, limit);
    }

    /** The provider delivers a result reference (a hash or URI), once, before the escrow's deadline. */
    public Result<ServiceRequest> complete(String id, Address caller, String resultRef) {
        catchUp(id);
        return tx.execute(status -> {
            Optional<ServiceRequest> locked = store.lockRequest(id);
            if (locked.isEmpty() || !locked.get().isParty(caller)) {
                return Result.refused(404, "NOT_FOUND", "request not found");
            }
            ServiceRequest r = locked.get();
            if (!r.provider().equals(caller)) {
                return Result.refused(403, "MARKET_PROVIDER_ONLY", "only the request's provider completes it");
            }
            if (r.failure() != null && r.failure().reason() == MarketTask.FailureReason.DEADLINE_MISSED) {
                return Result.refused(422, "MARKET_REQUEST_EXPIRED", "the late window closed: the consumer was refunded");
            }
            if (r.state() == ServiceRequest.State.CLOSED) {
                return MarketFailures.closedRefusal(kind, r);
            }
            if (r.failure() != null) {
                return Result.refused(409, "MARKET_REQUEST_FAILED", "the request is " + r.state());
            }
            if (r.state() != ServiceRequest.State.ESCROWED) {
                return Result.refused(409, "MARKET_ALREADY_COMPLETED", "the request was completed already");
            }
            Instant now = clock.instant();
            Escrow escrow = escrows.visible(r.escrowId(), caller).orElseThrow();
            if (escrow.state() != EscrowState.FUNDED) {
                return Result.refused(409, "MARKET_ESCROW_CLOSED", "the request's escrow is " + escrow.state());
            }
            if (now.isAfter(escrow.deadline())) {
                return Result.refused(422, "MARKET_REQUEST_EXPIRED", "the late window closed at " + escrow.deadline());
            }
            ServiceRequest done = r.completed(now, resultRef);
            store.update(done);
            audit.record(caller.hex(), "MARKET_REQUEST_COMPLETED", "market_request", id, r.token().hex(), null);
            events.publish(EventType.MARKET_REQUEST_COMPLETED, List.of(r.consumer(), r.provider()), id, Map.of(
                    "requestId", id, "resultRef", resultRef, "completedAt", now.toString()));
            return Result.ok(done);
        });
    }

    /**
     * The consumer scores a completed request (quality 0-200, accuracy 0-150): the payout follows
     * {@link PerformancePay} with the provider's {@link Reputation} bonus, paid to the provider out of the escrow and
     * the rest refunded; the service's record moves. Once.
     */
    public Result<ServiceRequest> score(String id, Address caller, int quality, int accuracy) {
        catchUp(id);
        // the provider's reputation bonus as of the delivery, for both steps (outcomes recorded since count next time)
        int[] bonus = new int[1];
        // step 1, own transaction: check, and open the escrow's split (dispute) when the payout is partial
        Result<PerformancePay.Breakdown> checked = tx.execute(status -> {
            Optional<ServiceRequest> locked = store.lockRequest(id);
            Result<PerformancePay.Breakdown> refusal = scorable(locked, caller);
            if (refusal != null) {
                return refusal;
            }
            ServiceRequest r = locked.get();
            // the bonus as of the delivery: a scoring retried after a crash that lost its payout's commit pays
            // the same split, which the escrow then finds in the ledger (paid once)
            bonus[0] = reputationBonusAsOf(r.provider(), r.completedAt());
            PerformancePay.Breakdown pay = pay(r, quality, accuracy, bonus[0]);
            String refused = settlement.open(r.escrowId(), r.consumer(), pay, id);
            if (refused != null) {
                status.setRollbackOnly();
                return Result.refused(409, "MARKET_ESCROW_CLOSED", "the request's escrow cannot settle: " + refused);
            }
            return Result.ok(pay);
        });
        if (!checked.ok()) {
            return Result.refused(checked.status(), checked.code(), checked.message());
        }
        // step 2: the request's record, the service's record and the payout, in one transaction
        return tx.execute(status -> {
            Optional<ServiceRequest> locked = store.lockRequest(id);
            Result<PerformancePay.Breakdown> refusal = scorable(locked, caller);
            if (refusal != null) {
                return Result.refused(refusal.status(), refusal.code(), refusal.message());
            }
            ServiceRequest r = locked.get();
            Instant now = clock.instant();
            PerformancePay.Breakdown pay = pay(r, quality, accuracy, bonus[0]);
            ServiceRequest scored = r.scored(now, quality, accuracy, pay, PerformanceSettlement.breakdownJson(pay));
            store.update(scored);
            boolean late = r.elapsed().minus(r.allowed()).isPositive();
            store.recordOutcome(r.serviceId(), quality, !late && quality >= 100);
            store.addOutcome(r.provider(), r.rater(), MarketStore.OutcomeKind.REQUEST, id,
                    MarketStore.OutcomeResult.SCORED, quality, late, now);
            String refused = settlement.settle(r.escrowId(), r.consumer(), pay);
            if (refused != null) {
                status.setRollbackOnly();
                return Result.refused(409, "MARKET_ESCROW_CLOSED", "the request's escrow cannot settle: " + refused);
            }
            audit.record(caller.hex(), "MARKET_REQUEST_SCORED", "market_request", id, r.token().hex(), pay.payout());
            events.publish(EventType.MARKET_REQUEST_SCORED, List.of(r.consumer(), r.provider()), id, Map.of(
                    "requestId", id, "quality", quality, "accuracy", accuracy, "payout", pay.payout().toString(),
                    "refund", pay.refund().toString(), "escrowId", r.escrowId()));
            return Result.ok(scored);
        });
    }

    /** Null when {@code caller} may score the request now; else the refusal. */
    private <T> Result<T> scorable(Optional<ServiceRequest> locked, Address caller) {
        if (locked.isEmpty() || !locked.get().isParty(caller)) {
            return Result.refused(404, "NOT_FOUND", "request not found");
        }
        ServiceRequest r = locked.get();
        Result<T> notRater = MarketFailures.notRater(kind, r, caller);
        if (notRater != null) {
            return notRater;
        }
        if (r.state() == ServiceRequest.State.CLOSED) {
            return MarketFailures.closedRefusal(kind, r);
        }
        if (r.failure() != null) {
            return Result.refused(409, "MARKET_REQUEST_FAILED", "the request is " + r.state());
        }
        if (r.state() == ServiceRequest.State.ESCROWED) {
            return Result.refused(409, "MARKET_NOT_COMPLETED", "the provider has not completed the request");
        }
        if (r.state() == ServiceRequest.State.SCORED) {
            return Result.refused(409, "MARKET_ALREADY_SCORED", "the request was scored already");
        }
        return null;
    }

    private static PerformancePay.Breakdown pay(ServiceRequest r, int quality, int accuracy, int bonusBps) {
        return PerformancePay.payout(r.base(), r.escrowed(), r.maxMultiplierBps(),
                new PerformancePay.Scores(quality, accuracy, r.elapsed(), r.allowed(), bonusBps));
    }
}
