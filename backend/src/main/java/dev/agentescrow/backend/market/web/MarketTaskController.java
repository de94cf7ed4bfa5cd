package dev.agentescrow.backend.market.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Paging;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.market.Market;
import dev.agentescrow.backend.market.MarketSettings;
import dev.agentescrow.backend.market.MarketTask;
import dev.agentescrow.backend.market.MarketTaskStore;
import dev.agentescrow.backend.market.MarketTasks;
import dev.agentescrow.backend.market.PerformancePay;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tasks and their sealed-bid reverse Vickrey auctions (docs/marketplace.md, "Tasks"). Every POST
 * needs an Idempotency-Key (a replay answers the first response).
 */
@RestController
@RequestMapping("/api/v1/market/tasks")
@Tag(name = "market", description = "Services agents offer, and direct requests paid by performance out of a ledger escrow")
public class MarketTaskController {
    private static final Pattern TASK_ID = Pattern.compile("task_[0-9a-f]{32}");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String NOT_FOUND = "NOT_FOUND (no such task)";
    /** A reported failure's dispute window when the posting gives none: one day. */
    public static final long DEFAULT_DISPUTE_WINDOW_SECONDS = 86_400;
    /** The longest dispute window a task may set (the escrow's arbitration period must outlast it). */
    public static final long MAX_DISPUTE_WINDOW_SECONDS = 3 * 86_400;

    private final MarketTasks tasks;
    private final TokenCatalog tokens;
    private final Clock clock;

    public MarketTaskController(MarketTasks tasks, TokenCatalog tokens, Clock clock) {
        this.tasks = tasks;
        this.tokens = tokens;
        this.clock = clock;
    }

    /** A task: the budget includes performance pay; the maximum base price is budget / largest multiplier. */
    public record TaskInput(List<String> capabilities, String description, String token, String budget,
                            Integer maxMultiplierBps, Long biddingSeconds, Long workSeconds, String evaluator,
                            Long disputeWindowSeconds) {
    }

    public record BidInput(String ask) {
    }

    /** A failure report's or a dispute's reason (1-512 characters). */
    public record ReasonInput(String reason) {
    }

    /** The arbiter's decision: what the winner gets (gross, fee taken from it); the rest goes back to the poster. */
    public record DecisionInput(String toWinner) {
    }

    /** A task's failure: why, when, the winner's dispute window and what became of it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record FailureView(String reason, String detail, Instant failedAt, Instant disputeWindowEnds, Instant disputedAt,
                       String disputeDetail, Instant decidedAt) {
        static FailureView of(MarketTask.Failure f) {
            return f == null ? null : new FailureView(f.reason().name(), f.detail(), f.failedAt(), f.windowEnds(),
                    f.disputedAt(), f.disputeDetail(), f.decidedAt());
        }
    }

    record TaskPage(List<TaskView> items, String nextCursor) {
    }

    /** A bid; {@code ask} is null (sealed) for everyone but its bidder until the window closes. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record BidView(String taskId, String bidder, String ask, boolean sealed, Instant createdAt) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record TaskView(String id, String poster, String state, String reason, List<String> capabilities,
                    String description, String token, String budget, int maxMultiplierBps, String maxBasePrice,
                    Instant biddingClosesAt, long workSeconds, Instant createdAt, Instant closedAt, String winner,
                    String clearingPrice, Boolean reserveApplied, String escrowed, String escrowId,
                    Instant workDeadline, Instant completedAt, String resultRef, Instant scoredAt, Integer quality,
                    Integer accuracy, String payout, String refund, JsonNode breakdown, String evaluator,
                    long disputeWindowSeconds, Instant lateDeadline, FailureView failure,
                    MarketViews.ClosureView closure, Integer bidCount, List<BidView> bids) {
    }

    @PostMapping
    @Operation(summary = "Posts a task: capabilities, budget, largest multiplier, token, bidding window, time for the work")
    @ApiResponse(responseCode = "201", description = "posted; bidding is open")
    @ApiResponse(responseCode = "422", description = "MARKET_BUDGET_TOO_SMALL, MARKET_ID_CONFLICT, UNKNOWN_TOKEN,"
            + " IDEMPOTENCY_KEY_REUSED")
    public ResponseEntity<TaskView> post(
            @Parameter(description = "IETF Idempotency-Key; the task id derives from it")
            @RequestHeader("Idempotency-Key") String idempotencyKey, @RequestBody TaskInput body) {
        Address poster = Principals.current();
        Inputs inputs = Inputs.check();
        List<String> capabilities = MarketController.capabilities(inputs, body.capabilities());
        String description = body.description();
        if (description != null && (description.length() > 1000 || !MarketController.TEXT.matcher(description)
                .matches())) {
            inputs.error("description", "INVALID_TEXT", "1-1000 characters, no control characters");
        }
        Address token = inputs.address("token", body.token());
        BigInteger budget = inputs.amount("budget", body.budget());
        int max = body.maxMultiplierBps() == null ? PerformancePay.DEFAULT_MAX_MULTIPLIER_BPS : body.maxMultiplierBps();
        if (max < PerformancePay.BPS || max > PerformancePay.MAX_MULTIPLIER_BPS) {
            inputs.error("maxMultiplierBps", "OUT_OF_RANGE", PerformancePay.BPS + " to "
                    + PerformancePay.MAX_MULTIPLIER_BPS);
        }
        long bidding = seconds(inputs, "biddingSeconds", body.biddingSeconds());
        long work = seconds(inputs, "workSeconds", body.workSeconds());
        Address evaluator = body.evaluator() == null ? null : inputs.address("evaluator", body.evaluator());
        long window = body.disputeWindowSeconds() == null ? DEFAULT_DISPUTE_WINDOW_SECONDS
                : seconds(inputs, "disputeWindowSeconds", body.disputeWindowSeconds(), MAX_DISPUTE_WINDOW_SECONDS);
        inputs.orThrow();
        if (tokens.find(token).isEmpty()) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "UNKNOWN_TOKEN", "the service does not accept this token");
        }
        MarketTask task = MarketController.orThrow(tasks.post(poster, idempotencyKey, new MarketTasks.Posting(
                List.copyOf(capabilities), description, token, budget, max, bidding, work, evaluator, window)), "task");
        return ResponseEntity.status(HttpStatus.CREATED).body(view(new MarketTasks.Listed(task, List.of()), poster));
    }

    @GetMapping("/{id}")
    @Operation(summary = "A task with its bids (amounts sealed but for their bidder until the window closes); a task"
            + " whose window has closed is allocated first")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    public TaskView get(@PathVariable String id) {
        Address me = Principals.current();
        return view(tasks.view(checkTask(id)).orElseThrow(() -> ApiException.notFound("task")), me);
    }

    @PostMapping("/{id}/bids")
    @Operation(summary = "A sealed bid of a base price by an agent whose active service covers the capabilities")
    @ApiResponse(responseCode = "201", description = "bid stored (sealed)")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_BIDDING_CLOSED, MARKET_DUPLICATE_BID, MARKET_TOO_MANY_BIDS,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_BID_ABOVE_MAX, MARKET_CAPABILITY_MISSING, MARKET_SELF_BID,"
            + " MARKET_EVALUATOR_BID,"
            + " IDEMPOTENCY_KEY_REUSED")
    public ResponseEntity<BidView> bid(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                       @RequestBody BidInput body) {
        Address me = Principals.current();
        Inputs inputs = Inputs.check();
        BigInteger ask = inputs.amount("ask", body == null ? null : body.ask());
        inputs.orThrow();
        MarketTask.Bid bid = MarketController.orThrow(tasks.bid(checkTask(id), me, ask), "task");
        return ResponseEntity.status(HttpStatus.CREATED).body(new BidView(bid.taskId(), bid.bidder().checksummed(),
                bid.ask().toString(), false, bid.createdAt()));
    }

    @PostMapping("/{id}/complete")
    @Operation(summary = "The winner delivers a result reference (hash or URI), once, before the escrow's deadline")
    @ApiResponse(responseCode = "403", description = "MARKET_WINNER_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_ALLOCATED, MARKET_ALREADY_COMPLETED,"
            + " MARKET_TASK_FAILED, MARKET_ESCROW_CLOSED, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_TASK_EXPIRED, IDEMPOTENCY_KEY_REUSED")
    public TaskView complete(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody MarketController.CompleteInput body) {
        Address me = Principals.current();
        return after(tasks.complete(checkTask(id), me, MarketController.resultRef(body)), me);
    }

    @PostMapping("/{id}/score")
    @Operation(summary = "The poster (or the task's evaluator) scores the result: the escrow pays the winner by"
            + " performance, refunds the rest")
    @ApiResponse(responseCode = "403", description = "MARKET_POSTER_ONLY, MARKET_EVALUATOR_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_COMPLETED, MARKET_ALREADY_SCORED, MARKET_TASK_FAILED,"
            + " MARKET_ESCROW_CLOSED, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "IDEMPOTENCY_KEY_REUSED")
    public TaskView score(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                          @RequestBody MarketController.ScoreInput body) {
        Address me = Principals.current();
        MarketController.checkScores(body);
        return after(tasks.score(checkTask(id), me, body.quality(), body.accuracy()), me);
    }

    @GetMapping
    @Operation(summary = "Tasks, newest first, keyset pages: by default the open tasks (bidding window still open),"
            + " optionally of a capability; role=poster: the caller's tasks; role=bidder: tasks the caller bid on;"
            + " state filters any of them")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (role, state, capability, cursor, limit)")
    public TaskPage list(@RequestParam(required = false) String role, @RequestParam(required = false) String state,
                         @RequestParam(required = false) String capability,
                         @RequestParam(required = false) String cursor,
                         @RequestParam(required = false) Integer limit) {
        Address me = Principals.current();
        Inputs inputs = Inputs.check();
        if (capability != null && !MarketController.CAPABILITY.matcher(capability).matches()) {
            inputs.error("capability", "INVALID_CAPABILITY", "lower-case letters, digits, '.', '_', '-'; 1-40");
        }
        MarketTask.State stateFilter = null;
        if (state != null) {
            try {
                stateFilter = MarketTask.State.valueOf(state.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                inputs.error("state", "INVALID_VALUE", "one of " + List.of(MarketTask.State.values()));
            }
        }
        String as = role == null ? "open" : role.toLowerCase(Locale.ROOT);
        if (!List.of("open", "poster", "bidder").contains(as)) {
            inputs.error("role", "INVALID_VALUE", "open (default), poster or bidder");
        }
        inputs.orThrow();
        long before = Paging.before(cursor);
        int size = Paging.limit(limit);
        boolean open = as.equals("open") && stateFilter == null;
        MarketTaskStore.Query query = new MarketTaskStore.Query(capability, stateFilter,
                as.equals("poster") ? me : null, as.equals("bidder") ? me : null, open ? clock.instant() : null);
        List<MarketTask> rows = tasks.list(query, before, size);
        return new TaskPage(rows.stream().map(t -> view(new MarketTasks.Listed(t, null), me)).toList(),
                rows.size() == size ? Long.toString(rows.getLast().position()) : null);
    }

    @PostMapping("/{id}/failure")
    @Operation(summary = "The poster (or the task's evaluator) reports that the work failed: the escrow is held for the"
            + " arbiter and the winner may dispute until the task's dispute window ends; undisputed, the poster is"
            + " refunded and the winner's reputation drops")
    @ApiResponse(responseCode = "403", description = "MARKET_POSTER_ONLY, MARKET_EVALUATOR_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_ALLOCATED, MARKET_TASK_FAILED, MARKET_ALREADY_SCORED,"
            + " MARKET_ESCROW_CLOSED, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "IDEMPOTENCY_KEY_REUSED")
    public TaskView reportFailure(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                                  @RequestBody ReasonInput body) {
        Address me = Principals.current();
        return after(tasks.reportFailure(checkTask(id), me, reason(body)), me);
    }

    @PostMapping("/{id}/dispute")
    @Operation(summary = "The winner disputes a reported failure before the dispute window ends; the platform's arbiter"
            + " decides")
    @ApiResponse(responseCode = "403", description = "MARKET_WINNER_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_ALLOCATED, MARKET_NO_FAILURE_REPORTED,"
            + " MARKET_ALREADY_DISPUTED, MARKET_ESCROW_CLOSED, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_DISPUTE_WINDOW_CLOSED, IDEMPOTENCY_KEY_REUSED")
    public TaskView dispute(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                            @RequestBody ReasonInput body) {
        Address me = Principals.current();
        return after(tasks.dispute(checkTask(id), me, reason(body)), me);
    }

    @PostMapping("/{id}/decision")
    @Operation(summary = "The platform's arbiter decides a disputed task: toWinner to the winner (fee taken from it),"
            + " the rest back to the poster")
    @ApiResponse(responseCode = "403", description = "MARKET_ARBITER_ONLY")
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = "MARKET_NOT_DISPUTED, MARKET_ALREADY_DECIDED, MARKET_ESCROW_CLOSED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "MARKET_SPLIT_ABOVE_ESCROW, IDEMPOTENCY_KEY_REUSED")
    public TaskView decide(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                           @RequestBody DecisionInput body) {
        Address me = Principals.current();
        return after(tasks.decide(checkTask(id), me, share("toWinner", body == null ? null : body.toWinner())), me);
    }

    /** An arbiter's award in base units, 0 or more (400 VALIDATION_FAILED otherwise). */
    static BigInteger share(String field, String text) {
        Inputs inputs = Inputs.check();
        BigInteger value = "0".equals(text) ? BigInteger.ZERO : inputs.amount(field, text);
        inputs.orThrow();
        return value;
    }

    /** The task after a command (read again, with its bids), or the command's refusal as problem+json. */
    private TaskView after(Market.Result<MarketTask> result, Address me) {
        MarketTask task = MarketController.orThrow(result, "task");
        return view(tasks.view(task.id()).orElseThrow(), me);
    }

    private static long seconds(Inputs inputs, String field, Long value) {
        return seconds(inputs, field, value, MarketSettings.MAX_DELIVERY_SECONDS);
    }

    static long seconds(Inputs inputs, String field, Long value, long max) {
        if (value == null || value < 1 || value > max) {
            inputs.error(field, "OUT_OF_RANGE", "1 to " + max + " seconds");
            return 0;
        }
        return value;
    }

    static String reason(ReasonInput body) {
        String reason = body == null ? null : body.reason();
        if (reason == null || reason.length() > 512 || !MarketController.TEXT.matcher(reason).matches()) {
            throw ApiException.invalidField("reason", "INVALID_TEXT", "1-512 characters, no control characters");
        }
        return reason;
    }

    private static String checkTask(String id) {
        if (!TASK_ID.matcher(id).matches()) {
            throw ApiException.notFound("task");
        }
        return id;
    }

    private TaskView view(MarketTasks.Listed listed, Address viewer) {
        MarketTask t = listed.task();
        boolean open = !t.biddingClosed(clock.instant());
        List<BidView> bids = listed.bids() == null ? List.of() : listed.bids().stream().map(b -> {
            boolean sealed = open && !b.bidder().equals(viewer);
            return new BidView(b.taskId(), b.bidder().checksummed(), sealed ? null : b.ask().toString(), sealed,
                    b.createdAt());
        }).toList();
        FailureView failure = FailureView.of(t.failure());
        return new TaskView(t.id(), t.poster().checksummed(), t.state().name(), t.reason(), t.capabilities(),
                t.description(), t.token().checksummed(), t.budget().toString(), t.maxMultiplierBps(),
                t.maxBasePrice().toString(), t.biddingClosesAt(), t.workSeconds(), t.createdAt(), t.closedAt(),
                t.winner() == null ? null : t.winner().checksummed(), str(t.clearingPrice()), t.reserveApplied(),
                str(t.escrowed()), t.escrowId(), t.workDeadline(), t.completedAt(),
                t.resultRef() != null && tasks.seesResult(t, viewer) ? t.resultRef() : null, t.scoredAt(),
                t.quality(), t.accuracy(), str(t.payout()), str(t.refund()),
                t.breakdown() == null ? null : JSON.readTree(t.breakdown()),
                t.evaluator() == null ? null : t.evaluator().checksummed(), t.disputeWindowSeconds(), t.lateDeadline(),
                failure, MarketViews.ClosureView.of(t.closed()), listed.bids() == null ? null : bids.size(),
                listed.bids() == null ? null : bids);
    }

    private static String str(BigInteger value) {
        return value == null ? null : value.toString();
    }
}
