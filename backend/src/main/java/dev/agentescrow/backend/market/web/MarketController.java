package dev.agentescrow.backend.market.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Paging;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.market.Market;
import dev.agentescrow.backend.market.MarketSettings;
import dev.agentescrow.backend.market.MarketStore;
import dev.agentescrow.backend.market.PerformancePay;
import dev.agentescrow.backend.market.ServiceListing;
import dev.agentescrow.backend.market.ServiceRequest;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The marketplace's service catalogue and direct requests (docs/marketplace.md). Every POST needs
 * an Idempotency-Key (a replay answers the first response).
 */
@RestController
@RequestMapping("/api/v1/market")
@Tag(name = "market", description = "Services agents offer, and direct requests paid by performance out of a ledger escrow")
public class MarketController {
    private static final Pattern SERVICE_ID = Pattern.compile("svc_[0-9a-f]{32}");
    private static final Pattern REQUEST_ID = Pattern.compile("req_[0-9a-f]{32}");
    static final Pattern CAPABILITY = Pattern.compile("[a-z0-9][a-z0-9._-]{0,39}");
    private static final Pattern UNIT = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    static final Pattern TEXT = Pattern.compile("[^\\p{Cntrl}]+");
    static final String NOT_FOUND = "NOT_FOUND (no such service or request, or not a party of the request)";

    private final Market market;
    private final TokenCatalog tokens;
    private final Clock clock;

    public MarketController(Market market, TokenCatalog tokens, Clock clock) {
        this.market = market;
        this.tokens = tokens;
        this.clock = clock;
    }

    /** A registration or update; {@code unit} omitted: the price is per request. */
    public record ServiceInput(List<String> capabilities, String description, String token, String price, String unit,
                               Long maxDeliverySeconds) {
    }

    /**
     * A request: {@code units} of a per-unit service (default 1), an input reference, the largest
     * multiplier; {@code maxBase} (optional) the most the consumer accepts as the base (price times
     * units), against a price the provider raised after the consumer read it.
     */
    public record RequestInput(Long units, String input, Integer maxMultiplierBps, String evaluator,
                               Long disputeWindowSeconds, String maxBase) {
    }

    public record CompleteInput(String resultRef) {
    }

    public record ScoreInput(Integer quality, Integer accuracy) {
    }

    public record NoArguments() {
    }

    // ------------------------------------------------------------------ services

    @PostMapping("/services")
    @Operation(summary = "Registers a service; without a price it is refused with the suggested price (median and range)")
    @ApiResponse(responseCode = "201", description = "registered")
    @ApiResponse(responseCode = "422", description = "MARKET_PRICE_REQUIRED (errors[0] carries suggestedMedian,"
            + " suggestedMin, suggestedMax, sampleSize when recent requests exist), MARKET_ID_CONFLICT, UNKNOWN_TOKEN,"
            + " IDEMPOTENCY_KEY_REUSED")
    public ResponseEntity<MarketViews.ServiceView> register(
            @Parameter(description = "IETF Idempotency-Key; the service id derives from it")
            @RequestHeader("Idempotency-Key") String idempotencyKey, @RequestBody ServiceInput body) {
        Address provider = Principals.current();
        Market.Terms terms = parse(body, true);
        return ResponseEntity.status(HttpStatus.CREATED).body(MarketViews.of(
                orThrow(market.register(provider, idempotencyKey, terms), "service")));
    }

    @PutMapping("/services/{id}")
    @Operation(summary = "The provider replaces its service's terms (the token stays); running requests keep theirs")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_SERVICE_WITHDRAWN")
    @ApiResponse(responseCode = "422", description = "MARKET_TOKEN_FIXED, UNKNOWN_TOKEN")
    public MarketViews.ServiceView update(@PathVariable String id, @RequestBody ServiceInput body) {
        Address provider = Principals.current();
        Market.Terms terms = parse(body, false);
        return MarketViews.of(orThrow(market.update(checkService(id), provider, terms), "service"));
    }

    @PostMapping("/services/{id}/withdraw")
    @Operation(summary = "The provider withdraws its service: no new requests; running requests go on")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    public MarketViews.ServiceView withdraw(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                            @RequestBody(required = false) NoArguments body) {
        Address provider = Principals.current();
        return MarketViews.of(orThrow(market.withdraw(checkService(id), provider), "service"));
    }

    @GetMapping("/services")
    @Operation(summary = "Active services, newest first; filter by capability, token and provider; keyset pages")
    public MarketViews.ServicePage services(@RequestParam(required = false) String capability,
                                            @RequestParam(required = false) String token,
                                            @RequestParam(required = false) String provider,
                                            @RequestParam(required = false) String cursor,
                                            @RequestParam(required = false) Integer limit) {
        Principals.current();
        Inputs inputs = Inputs.check();
        if (capability != null && !CAPABILITY.matcher(capability).matches()) {
            inputs.error("capability", "INVALID_CAPABILITY", "lower-case letters, digits, '.', '_', '-'; 1-40");
        }
        Address tokenFilter = token == null ? null : inputs.address("token", token);
        Address providerFilter = provider == null ? null : inputs.address("provider", provider);
        inputs.orThrow();
        long before = Paging.before(cursor);
        int size = Paging.limit(limit);
        List<ServiceListing> rows = market.search(capability, tokenFilter, providerFilter, before, size);
        return new MarketViews.ServicePage(rows.stream().map(MarketViews::of).toList(),
                rows.size() == size ? Long.toString(rows.getLast().position()) : null);
    }

    @GetMapping("/services/{id}")
    @Operation(summary = "A service with its record (rating, total requests, success rate)")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    public MarketViews.ServiceView service(@PathVariable String id) {
        Principals.current();
        return MarketViews.of(market.service(checkService(id)).orElseThrow(() -> ApiException.notFound("service")));
    }

    @GetMapping("/price-suggestions")
    @Operation(summary = "The median and range of recent completed requests' prices for a capability in a token")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (no scored request of this capability yet)")
    public MarketViews.PriceSuggestionView suggestion(@RequestParam String capability, @RequestParam String token) {
        Principals.current();
        Inputs inputs = Inputs.check();
        if (!CAPABILITY.matcher(capability).matches()) {
            inputs.error("capability", "INVALID_CAPABILITY", "lower-case letters, digits, '.', '_', '-'; 1-40");
        }
        Address tokenAddress = inputs.address("token", token);
        inputs.orThrow();
        return MarketViews.of(market.suggestPrice(capability, tokenAddress)
                .orElseThrow(() -> ApiException.notFound("price suggestion")));
    }

    @GetMapping("/agents/{address}/reputation")
    @Operation(summary = "An agent's reputation as a provider (decayed, counterparty-weighted), its bonus and latest outcomes")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (not an address)")
    public MarketViews.ReputationView reputation(@PathVariable String address) {
        Principals.current();
        Inputs inputs = Inputs.check();
        Address agent = inputs.address("address", address);
        inputs.orThrow();
        return MarketViews.of(market.reputation(agent), clock.instant(), 50);
    }

    // ------------------------------------------------------------------ requests

    @PostMapping("/services/{id}/requests")
    @Operation(summary = "Requests a service: its cost times the largest multiplier moves into a ledger escrow for the provider")
    @ApiResponse(responseCode = "201", description = "requested, the escrow funded and accepted for the provider")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_SERVICE_WITHDRAWN, MARKET_ESCROW_REFUSED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "INSUFFICIENT_FUNDS, MARKET_SELF_REQUEST, MARKET_UNITS_NOT_PRICED,"
            + " MARKET_AMOUNT_TOO_LARGE, MARKET_PRICE_ABOVE_MAX_BASE,"
            + " MARKET_EVALUATOR_IS_PARTY,"
            + " MARKET_ARBITER_IS_PARTY, MARKET_ID_CONFLICT, ESCROW_FEE_ABOVE_MAX, UNKNOWN_TOKEN, IDEMPOTENCY_KEY_REUSED")
    @ApiResponse(responseCode = "503", description = "MARKET_NO_ARBITER, LEDGER_UNAVAILABLE")
    public ResponseEntity<MarketViews.RequestView> request(@PathVariable String id,
            @Parameter(description = "IETF Idempotency-Key; the request id derives from it")
            @RequestHeader("Idempotency-Key") String idempotencyKey, @RequestBody(required = false) RequestInput body) {
        Address consumer = Principals.current();
        RequestInput input = body == null ? new RequestInput(null, null, null, null, null, null) : body;
        Inputs inputs = Inputs.check();
        long units = input.units() == null ? 1 : input.units();
        if (units < 1 || units > MarketSettings.MAX_UNITS) {
            inputs.error("units", "OUT_OF_RANGE", "1 to " + MarketSettings.MAX_UNITS);
        }
        if (input.input() != null && (input.input().length() > 512 || !TEXT.matcher(input.input()).matches())) {
            inputs.error("input", "INVALID_TEXT", "1-512 characters, no control characters");
        }
        int max = input.maxMultiplierBps() == null ? PerformancePay.DEFAULT_MAX_MULTIPLIER_BPS : input.maxMultiplierBps();
        if (max < PerformancePay.BPS || max > PerformancePay.MAX_MULTIPLIER_BPS) {
            inputs.error("maxMultiplierBps", "OUT_OF_RANGE", PerformancePay.BPS + " to "
                    + PerformancePay.MAX_MULTIPLIER_BPS);
        }
        Address evaluator = input.evaluator() == null ? null : inputs.address("evaluator", input.evaluator());
        long window = input.disputeWindowSeconds() == null ? MarketTaskController.DEFAULT_DISPUTE_WINDOW_SECONDS
                : MarketTaskController.seconds(inputs, "disputeWindowSeconds", input.disputeWindowSeconds(),
                        MarketTaskController.MAX_DISPUTE_WINDOW_SECONDS);
        BigInteger maxBase = input.maxBase() == null ? null : inputs.amount("maxBase", input.maxBase());
        inputs.orThrow();
        ServiceRequest created = orThrow(market.request(checkService(id), consumer, idempotencyKey,
                new Market.Order(units, input.input(), max, evaluator, window, maxBase)), "service");
        return ResponseEntity.status(HttpStatus.CREATED).body(MarketViews.of(created, consumer));
    }

    @GetMapping("/requests")
    @Operation(summary = "The caller's requests as consumer (default), provider or evaluator, newest first; keyset pages")
    public MarketViews.RequestPage requests(@RequestParam(required = false) String role,
                                            @RequestParam(required = false) String cursor,
                                            @RequestParam(required = false) Integer limit) {
        Address me = Principals.current();
        MarketStore.RequestRole as;
        try {
            as = role == null ? MarketStore.RequestRole.CONSUMER
                    : MarketStore.RequestRole.valueOf(role.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidField("role", "INVALID_VALUE", "consumer, provider or evaluator");
        }
        int size = Paging.limit(limit);
        List<ServiceRequest> rows = market.requests(me, as, Paging.before(cursor), size);
        return new MarketViews.RequestPage(rows.stream().map(r -> MarketViews.of(r, me)).toList(),
                rows.size() == size ? Long.toString(rows.getLast().position()) : null);
    }

    @GetMapping("/requests/{id}")
    @Operation(summary = "A request the caller is consumer, provider or evaluator of, with its performance-pay breakdown once scored")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    public MarketViews.RequestView get(@PathVariable String id) {
        Address me = Principals.current();
        Optional<ServiceRequest> found = REQUEST_ID.matcher(id).matches() ? market.visible(id, me) : Optional.empty();
        return MarketViews.of(found.orElseThrow(() -> ApiException.notFound("request")), me);
    }

    @PostMapping("/requests/{id}/complete")
    @Operation(summary = "The provider delivers a result reference (hash or URI), once, before the escrow's deadline")
    @ApiResponse(responseCode = "403", description = "MARKET_PROVIDER_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_ALREADY_COMPLETED, MARKET_ESCROW_CLOSED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_REQUEST_EXPIRED, IDEMPOTENCY_KEY_REUSED")
    public MarketViews.RequestView complete(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                            @RequestBody CompleteInput body) {
        Address me = Principals.current();
        return MarketViews.of(orThrow(market.complete(checkRequest(id), me, resultRef(body)), "request"), me);
    }

    @PostMapping("/requests/{id}/score")
    @Operation(summary = "The consumer (or the request's evaluator) scores the result: the escrow pays the provider by"
            + " performance, refunds the rest")
    @ApiResponse(responseCode = "403", description = "MARKET_CONSUMER_ONLY, MARKET_EVALUATOR_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_COMPLETED, MARKET_ALREADY_SCORED, MARKET_ESCROW_CLOSED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "IDEMPOTENCY_KEY_REUSED")
    public MarketViews.RequestView score(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                         @RequestBody ScoreInput body) {
        Address me = Principals.current();
        checkScores(body);
        return MarketViews.of(orThrow(market.score(checkRequest(id), me, body.quality(), body.accuracy()), "request"),
                me);
    }

    /** The arbiter's decision on a disputed request: {@code toProvider} base units to the provider, the rest back. */
    public record RequestDecisionInput(String toProvider) {
    }

    @PostMapping("/requests/{id}/failure")
    @Operation(summary = "The consumer (or the request's evaluator) reports that the work failed: the escrow is held for"
            + " the arbiter and the provider may dispute until the request's dispute window ends; undisputed, the"
            + " consumer is refunded and the provider's reputation drops")
    @ApiResponse(responseCode = "403", description = "MARKET_CONSUMER_ONLY, MARKET_EVALUATOR_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_REQUEST_FAILED, MARKET_ALREADY_SCORED, MARKET_ESCROW_CLOSED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "IDEMPOTENCY_KEY_REUSED")
    public MarketViews.RequestView reportFailure(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                                 @RequestBody MarketTaskController.ReasonInput body) {
        Address me = Principals.current();
        return after(market.reportFailure(checkRequest(id), me, MarketTaskController.reason(body)), me);
    }

    @PostMapping("/requests/{id}/dispute")
    @Operation(summary = "The provider disputes a reported failure before the dispute window ends; the platform's arbiter"
            + " decides")
    @ApiResponse(responseCode = "403", description = "MARKET_PROVIDER_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NO_FAILURE_REPORTED, MARKET_ALREADY_DISPUTED,"
            + " MARKET_ESCROW_CLOSED, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_DISPUTE_WINDOW_CLOSED, IDEMPOTENCY_KEY_REUSED")
    public MarketViews.RequestView dispute(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                           @RequestBody MarketTaskController.ReasonInput body) {
        Address me = Principals.current();
        return after(market.dispute(checkRequest(id), me, MarketTaskController.reason(body)), me);
    }

    @PostMapping("/requests/{id}/decision")
    @Operation(summary = "The platform's arbiter decides a disputed request: toProvider to the provider (fee taken from"
            + " it), the rest back to the consumer")
    @ApiResponse(responseCode = "403", description = "MARKET_ARBITER_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_DISPUTED, MARKET_ALREADY_DECIDED, MARKET_ESCROW_CLOSED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_SPLIT_ABOVE_ESCROW, IDEMPOTENCY_KEY_REUSED")
    public MarketViews.RequestView decide(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                          @RequestBody RequestDecisionInput body) {
        Address me = Principals.current();
        return after(market.decide(checkRequest(id), me, MarketTaskController.share("toProvider",
                body == null ? null : body.toProvider())), me);
    }

    /** The request after a command, as the caller sees it, or the command's refusal as problem+json. */
    private MarketViews.RequestView after(Market.Result<ServiceRequest> result, Address me) {
        return MarketViews.of(orThrow(result, "request"), me);
    }

    // ------------------------------------------------------------------ parsing

    private Market.Terms parse(ServiceInput body, boolean registering) {
        Inputs inputs = Inputs.check();
        List<String> capabilities = capabilities(inputs, body.capabilities());
        String description = body.description();
        if (description == null || description.length() > 1000 || !TEXT.matcher(description).matches()) {
            inputs.error("description", "INVALID_TEXT", "1-1000 characters, no control characters");
        }
        Address token = inputs.address("token", body.token());
        if (body.unit() != null && !UNIT.matcher(body.unit()).matches()) {
            inputs.error("unit", "INVALID_UNIT", "a unit name: lower-case letter first, then letters, digits, '_', '-';"
                    + " 1-32");
        }
        long maxDelivery = body.maxDeliverySeconds() == null ? 0 : body.maxDeliverySeconds();
        if (maxDelivery < 1 || maxDelivery > MarketSettings.MAX_DELIVERY_SECONDS) {
            inputs.error("maxDeliverySeconds", "OUT_OF_RANGE", "1 to " + MarketSettings.MAX_DELIVERY_SECONDS);
        }
        BigInteger price = body.price() == null ? null : inputs.amount("price", body.price());
        inputs.orThrow();
        if (tokens.find(token).isEmpty()) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "UNKNOWN_TOKEN", "the service does not accept this token");
        }
        if (price == null) {
            Map<String, String> error = new LinkedHashMap<>(Map.of("field", "price", "code", "REQUIRED",
                    "message", registering ? "a price is required; see the suggestion (median and range of recent"
                            + " requests of the first capability)" : "a price is required"));
            market.suggestPrice(capabilities.getFirst(), token).ifPresent(s -> {
                error.put("suggestedMedian", s.median().toString());
                error.put("suggestedMin", s.min().toString());
                error.put("suggestedMax", s.max().toString());
                error.put("sampleSize", Integer.toString(s.sampleSize()));
            });
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "MARKET_PRICE_REQUIRED",
                    "register with a price; a suggestion is in errors[0] when recent requests exist", List.of(error),
                    Map.of());
        }
        return new Market.Terms(List.copyOf(capabilities), description, token, price, body.unit(), maxDelivery);
    }

    /** A completion's result reference: a hash or URI, 1-512 characters (else 400). */
    static String resultRef(CompleteInput body) {
        String ref = body == null ? null : body.resultRef();
        if (ref == null || ref.length() > 512 || !TEXT.matcher(ref).matches()) {
            throw ApiException.invalidField("resultRef", "INVALID_TEXT", "a hash or URI: 1-512 characters, no control"
                    + " characters");
        }
        return ref;
    }

    /** Checks a scoring's quality (0-200) and accuracy (0-150); else 400. */
    static void checkScores(ScoreInput body) {
        Inputs inputs = Inputs.check();
        Integer quality = body == null ? null : body.quality();
        Integer accuracy = body == null ? null : body.accuracy();
        if (quality == null || quality < 0 || quality > PerformancePay.QUALITY_MAX) {
            inputs.error("quality", "OUT_OF_RANGE", "0 to " + PerformancePay.QUALITY_MAX + " (clamped to "
                    + PerformancePay.QUALITY_MIN + "-" + PerformancePay.QUALITY_MAX + ")");
        }
        if (accuracy == null || accuracy < 0 || accuracy > PerformancePay.ACCURACY_MAX) {
            inputs.error("accuracy", "OUT_OF_RANGE", "0 to " + PerformancePay.ACCURACY_MAX + " (clamped to "
                    + PerformancePay.ACCURACY_MIN + "-" + PerformancePay.ACCURACY_MAX + ")");
        }
        inputs.orThrow();
    }

    /** The capability tags of a service or a task: 1-16 distinct tags; errors go to {@code inputs}. */
    static List<String> capabilities(Inputs inputs, List<String> tags) {
        List<String> capabilities = new ArrayList<>();
        if (tags == null || tags.isEmpty() || tags.size() > MarketSettings.MAX_CAPABILITIES) {
            inputs.error("capabilities", "OUT_OF_RANGE", "1 to " + MarketSettings.MAX_CAPABILITIES + " tags");
            return capabilities;
        }
        for (int i = 0; i < tags.size(); i++) {
            String tag = tags.get(i);
            if (tag == null || !CAPABILITY.matcher(tag).matches()) {
                inputs.error("capabilities[" + i + "]", "INVALID_CAPABILITY",
                        "lower-case letters, digits, '.', '_', '-'; 1-40");
            } else if (capabilities.contains(tag)) {
                inputs.error("capabilities[" + i + "]", "DUPLICATE", "each tag at most once");
            } else {
                capabilities.add(tag);
            }
        }
        return capabilities;
    }

    private static String checkService(String id) {
        if (!SERVICE_ID.matcher(id).matches()) {
            throw ApiException.notFound("service");
        }
        return id;
    }

    private static String checkRequest(String id) {
        if (!REQUEST_ID.matcher(id).matches()) {
            throw ApiException.notFound("request");
        }
        return id;
    }

    static <T> T orThrow(Market.Result<T> result, String what) {
        if (!result.ok()) {
            if (result.status() == 404) {
                throw ApiException.notFound(what);
            }
            throw new ApiException(HttpStatus.valueOf(result.status()), result.code(), result.message());
        }
        return result.value();
    }
}
