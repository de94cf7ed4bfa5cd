package dev.agentescrow.backend.workflow.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.escrow.EscrowRules;
import dev.agentescrow.backend.market.PerformancePay;
import dev.agentescrow.backend.workflow.SplitKind;
import dev.agentescrow.backend.workflow.Workflow;
import dev.agentescrow.backend.workflow.WorkflowDraft;
import dev.agentescrow.backend.workflow.WorkflowMode;
import dev.agentescrow.backend.workflow.WorkflowRules;
import dev.agentescrow.backend.workflow.Workflows;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Multi-agent workflows (docs/workflows.md): create a DAG of steps funded up front from the
 * caller's account, report each step's outcome (its agent or the workflow's evaluator), read the
 * workflow. Every POST needs an Idempotency-Key (a replay answers the first response).
 */
@RestController
@RequestMapping("/api/v1/workflows")
@Tag(name = "workflows", description = "DAGs of steps done by several agents, paid per step (FLEXIBLE) or all or"
        + " nothing (ATOMIC) out of one ledger account funded up front")
public class WorkflowController {
    private static final Pattern WORKFLOW_ID = Pattern.compile("wf_[0-9a-f]{32}");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]{1,32}");
    private static final Pattern CAPABILITY = Pattern.compile("[a-z0-9._-]{1,64}");
    private static final String CREATE_REFUSALS = "WORKFLOW_EMPTY, WORKFLOW_TOO_LARGE, WORKFLOW_DUPLICATE_STEP,"
            + " WORKFLOW_UNKNOWN_DEPENDENCY, WORKFLOW_SELF_DEPENDENCY, WORKFLOW_CYCLE, WORKFLOW_SPLIT_NOT_ALLOWED,"
            + " WORKFLOW_WEIGHTS_MISMATCH, WORKFLOW_PRICES_MISMATCH, WORKFLOW_AMOUNT_REQUIRED, WORKFLOW_AMOUNT_TOO_SMALL,"
            + " WORKFLOW_AMOUNT_TOO_LARGE, WORKFLOW_AGENT_IS_PAYER, WORKFLOW_EVALUATOR_MISSING, WORKFLOW_DEADLINE_PASSED,"
            + " WORKFLOW_DEADLINE_TOO_FAR, WORKFLOW_FEE_ABOVE_MAX, WORKFLOW_AUCTION_MISMATCH, WORKFLOW_BIDDING_WINDOW,"
            + " WORKFLOW_BUDGET_TOO_SMALL,"
            + " WORKFLOW_ID_CONFLICT, INSUFFICIENT_FUNDS (nothing held), UNKNOWN_TOKEN, IDEMPOTENCY_KEY_REUSED";

    private final Workflows workflows;

    public WorkflowController(Workflows workflows) {
        this.workflows = workflows;
    }

    /**
     * One step: {@code agent} does it and is paid its share; {@code weight} with a WEIGHTS split,
     * {@code price} with PRICES; {@code dependsOn} the keys of the steps that must succeed first.
     * Without an {@code agent} the step is left to an auction: {@code budget} (the most it pays, held
     * up front) and {@code biddingClosesAt} (RFC 3339, before its deadline) instead.
     */
    public record StepInput(String key, String agent, String capability, String deadline, List<String> dependsOn,
                            String weight, String price, String budget, String biddingClosesAt) {
    }

    /** A sealed bid: the base price asked, in base units. */
    public record BidInput(String ask) {
    }

    /** A stored bid (its ask shown to its bidder). */
    public record BidView(String workflowId, String step, String bidder, String ask, Instant createdAt) {
    }

    /** Performance pay per step: the largest total multiplier (10,000-45,000 bps); the share held is base times it. */
    public record PerformancePayInput(Integer maxMultiplierBps) {
    }

    /** A create; see docs/workflows.md for each field. */
    public record CreateWorkflow(String token, String mode, String split, String amount, String evaluator,
                                 Integer maxFeeBps, PerformancePayInput performancePay, List<StepInput> steps) {
    }

    /** The evaluator's scores of a success under performance pay: quality 0-200, accuracy 0-150. */
    public record ScoresInput(Integer quality, Integer accuracy) {
    }

    /** A step's outcome: SUCCEEDED or FAILED, with the reporter's words (and scores, under performance pay). */
    public record Report(String outcome, String reason, ScoresInput scores) {
    }

    @PostMapping
    @Operation(summary = "Creates a workflow and moves its whole amount from the caller's account into the workflow's"
            + " ledger account in one transfer (all or nothing); the steps without dependencies start")
    @ApiResponse(responseCode = "201", description = "created and funded")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (a field: REQUIRED, INVALID_ADDRESS,"
            + " INVALID_AMOUNT, INVALID_KEY, INVALID_CAPABILITY, INVALID_TIME, INVALID_VALUE, OUT_OF_RANGE)")
    @ApiResponse(responseCode = "422", description = CREATE_REFUSALS)
    public ResponseEntity<WorkflowView> create(
            @Parameter(description = "IETF Idempotency-Key; the workflow id derives from it")
            @RequestHeader("Idempotency-Key") String idempotencyKey, @RequestBody CreateWorkflow order) {
        Address payer = Principals.current();
        WorkflowDraft draft = parse(order);
        Workflows.Result result = workflows.create(payer, idempotencyKey, draft);
        refuse(result);
        return ResponseEntity.status(HttpStatus.CREATED).body(view(result.workflow()));
    }

    @GetMapping("/{id}")
    @Operation(summary = "The workflow: its DAG, each step's state and share, what was paid (net and fees) and"
            + " refunded, and its ledger transfers; a step past its deadline shows as failed")
    @ApiResponse(responseCode = "200", description = "the workflow")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not the payer, the evaluator or an agent)")
    public WorkflowView get(@PathVariable String id) {
        Address me = Principals.current();
        return view(workflows.visible(checkId(id), me).orElseThrow(() -> ApiException.notFound("workflow")));
    }

    @PostMapping("/{id}/steps/{key}/report")
    @Operation(summary = "Reports a RUNNING step's outcome (its agent or the workflow's evaluator, once): SUCCEEDED pays"
            + " (FLEXIBLE: this step's share now; ATOMIC: everyone when the last step succeeds), FAILED fails its"
            + " dependants and refunds (FLEXIBLE: their shares; ATOMIC: everything)")
    @ApiResponse(responseCode = "200", description = "the workflow after the report")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (outcome: REQUIRED, INVALID_VALUE; reason;"
            + " scores: OUT_OF_RANGE)")
    @ApiResponse(responseCode = "403", description = "WORKFLOW_REPORTER_REQUIRED (a party that is neither the step's"
            + " agent nor the evaluator), WORKFLOW_EVALUATOR_REQUIRED (a success under performance pay)")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not a party), WORKFLOW_STEP_NOT_FOUND")
    @ApiResponse(responseCode = "409", description = "WORKFLOW_STEP_NOT_STARTED, WORKFLOW_STEP_FINISHED,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "WORKFLOW_SCORES_REQUIRED, WORKFLOW_SCORES_NOT_APPLICABLE,"
            + " IDEMPOTENCY_KEY_REUSED")
    public WorkflowView report(@PathVariable String id, @PathVariable String key,
                               @Parameter(description = "IETF Idempotency-Key") @RequestHeader("Idempotency-Key")
                               String idempotencyKey, @RequestBody Report report) {
        Address me = Principals.current();
        checkId(id);
        Inputs inputs = Inputs.check();
        WorkflowRules.Outcome outcome = report.outcome() == null
                ? inputs.error("outcome", "REQUIRED", "SUCCEEDED or FAILED")
                : enumOf(inputs, WorkflowRules.Outcome.class, "outcome", report.outcome());
        if (report.reason() != null && (report.reason().length() > 200 || report.reason().chars().anyMatch(c -> c < 0x20))) {
            inputs.error("reason", "INVALID_VALUE", "at most 200 characters, no control characters");
        }
        WorkflowRules.Scores scores = null;
        if (report.scores() != null) {
            ScoresInput s = report.scores();
            if (s.quality() == null || s.quality() < 0 || s.quality() > 200) {
                inputs.error("scores.quality", "OUT_OF_RANGE", "0 to 200");
            }
            if (s.accuracy() == null || s.accuracy() < 0 || s.accuracy() > 150) {
                inputs.error("scores.accuracy", "OUT_OF_RANGE", "0 to 150");
            }
            scores = inputs.ok() ? new WorkflowRules.Scores(s.quality(), s.accuracy()) : null;
        }
        inputs.orThrow();
        if (!KEY.matcher(key).matches()) {
            throw new ApiException(HttpStatus.NOT_FOUND, "WORKFLOW_STEP_NOT_FOUND", "the workflow has no step with this key");
        }
        Workflows.Result result = workflows.report(id, key, me, outcome, report.reason(), scores);
        refuse(result);
        return view(result.workflow());
    }

    @PostMapping("/{id}/steps/{key}/bids")
    @Operation(summary = "A sealed bid of a base price on a step left to an auction, by an agent whose active service"
            + " covers the step's capability; allocated by the marketplace's reverse Vickrey rule when the step's"
            + " bidding window closes")
    @ApiResponse(responseCode = "201", description = "bid stored (sealed)")
    @ApiResponse(responseCode = "400", description = "VALIDATION_FAILED (ask: REQUIRED, INVALID_AMOUNT)")
    @ApiResponse(responseCode = "404", description = "NOT_FOUND, WORKFLOW_STEP_NOT_FOUND")
    @ApiResponse(responseCode = "409", description = "WORKFLOW_STEP_NOT_AUCTIONED, WORKFLOW_BIDDING_CLOSED,"
            + " WORKFLOW_DUPLICATE_BID, WORKFLOW_BIDS_FULL, IDEMPOTENCY_REQUEST_IN_FLIGHT")
    @ApiResponse(responseCode = "422", description = "WORKFLOW_SELF_BID, WORKFLOW_EVALUATOR_BID, WORKFLOW_BID_ABOVE_MAX,"
            + " WORKFLOW_CAPABILITY_MISSING, IDEMPOTENCY_KEY_REUSED")
    public ResponseEntity<BidView> bid(@PathVariable String id, @PathVariable String key,
                                       @Parameter(description = "IETF Idempotency-Key") @RequestHeader("Idempotency-Key")
                                       String idempotencyKey, @RequestBody BidInput body) {
        Address me = Principals.current();
        checkId(id);
        Inputs inputs = Inputs.check();
        BigInteger ask = inputs.amount("ask", body == null ? null : body.ask());
        inputs.orThrow();
        if (!KEY.matcher(key).matches()) {
            throw new ApiException(HttpStatus.NOT_FOUND, "WORKFLOW_STEP_NOT_FOUND", "the workflow has no step with this key");
        }
        Workflows.BidResult result = workflows.bid(id, key, me, ask);
        if (!result.ok()) {
            refuse(result.status(), result.code(), result.message());
        }
        return ResponseEntity.status(HttpStatus.CREATED).body(new BidView(id, key, result.bid().bidder().checksummed(),
                result.bid().ask().toString(), result.bid().createdAt()));
    }

    private WorkflowView view(Workflow w) {
        return WorkflowView.of(w, workflows.transfers(w.id()));
    }

    private static void refuse(Workflows.Result result) {
        if (!result.ok()) {
            refuse(result.status(), result.code(), result.message());
        }
    }

    /** A refusal as problem+json; NOT_FOUND as the service's plain 404 (another principal's workflow). */
    private static void refuse(int status, String code, String message) {
        if ("NOT_FOUND".equals(code)) {
            throw ApiException.notFound("workflow");
        }
        throw new ApiException(HttpStatus.valueOf(status), code, message);
    }

    private static String checkId(String id) {
        if (!WORKFLOW_ID.matcher(id).matches()) {
            throw ApiException.notFound("workflow");
        }
        return id;
    }

    private WorkflowDraft parse(CreateWorkflow order) {
        Inputs inputs = Inputs.check();
        List<StepInput> stepInputs = order.steps() == null ? List.of() : order.steps();
        if (stepInputs.size() > WorkflowDraft.MAX_STEPS) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_ENTITY, "WORKFLOW_TOO_LARGE",
                    "a workflow has at most " + WorkflowDraft.MAX_STEPS + " steps");
        }
        Address token = inputs.address("token", order.token());
        WorkflowMode mode = order.mode() == null ? WorkflowMode.FLEXIBLE
                : enumOf(inputs, WorkflowMode.class, "mode", order.mode());
        SplitKind split = order.split() == null ? SplitKind.EQUAL : enumOf(inputs, SplitKind.class, "split", order.split());
        BigInteger amount = order.amount() == null ? null : inputs.amount("amount", order.amount());
        Address evaluator = order.evaluator() == null ? null : inputs.address("evaluator", order.evaluator());
        int maxFeeBps = 0;
        if (order.maxFeeBps() == null) {
            inputs.error("maxFeeBps", "REQUIRED", "the highest platform fee you accept, basis points (see docs/workflows.md)");
        } else if (order.maxFeeBps() < 0 || order.maxFeeBps() > EscrowRules.BPS) {
            inputs.error("maxFeeBps", "OUT_OF_RANGE", "0 to " + EscrowRules.BPS);
        } else {
            maxFeeBps = order.maxFeeBps();
        }
        Integer maxMultiplierBps = null;
        if (order.performancePay() != null) {
            Integer max = order.performancePay().maxMultiplierBps();
            if (max == null || max < PerformancePay.BPS || max > PerformancePay.MAX_MULTIPLIER_BPS) {
                inputs.error("performancePay.maxMultiplierBps", "OUT_OF_RANGE", PerformancePay.BPS + " to "
                        + PerformancePay.MAX_MULTIPLIER_BPS);
            } else {
                maxMultiplierBps = max;
            }
        }
        List<WorkflowDraft.StepDraft> steps = new ArrayList<>();
        for (int i = 0; i < stepInputs.size(); i++) {
            StepInput s = stepInputs.get(i);
            String field = "steps[" + i + "].";
            if (s == null) {
                inputs.error(field + "key", "REQUIRED", "required");
                continue;
            }
            if (s.key() == null || !KEY.matcher(s.key()).matches()) {
                inputs.error(field + "key", "INVALID_KEY", "1-32 of A-Z a-z 0-9 _ -");
            }
            Address agent = s.agent() == null ? null : inputs.address(field + "agent", s.agent());
            if (s.capability() == null || !CAPABILITY.matcher(s.capability()).matches()) {
                inputs.error(field + "capability", "INVALID_CAPABILITY", "1-64 of lower-case letters, digits, '.', '_', '-'");
            }
            Instant deadline = time(inputs, field + "deadline", s.deadline());
            List<String> deps = s.dependsOn() == null ? List.of() : s.dependsOn();
            if (deps.size() > WorkflowDraft.MAX_STEPS || deps.stream().anyMatch(d -> d == null || !KEY.matcher(d).matches())) {
                inputs.error(field + "dependsOn", "INVALID_KEY", "at most " + WorkflowDraft.MAX_STEPS
                        + " step keys, each 1-32 of A-Z a-z 0-9 _ -");
            }
            BigInteger weight = s.weight() == null ? null : inputs.amount(field + "weight", s.weight());
            BigInteger price = s.price() == null ? null : inputs.amount(field + "price", s.price());
            BigInteger budget = s.budget() == null ? null : inputs.amount(field + "budget", s.budget());
            Instant closes = s.biddingClosesAt() == null ? null : time(inputs, field + "biddingClosesAt",
                    s.biddingClosesAt());
            steps.add(new WorkflowDraft.StepDraft(s.key(), agent, s.capability(), deadline, deps, weight, price,
                    budget, closes));
        }
        inputs.orThrow();
        return new WorkflowDraft(token, mode, split, amount, evaluator, maxFeeBps, maxMultiplierBps, steps);
    }

    private static Instant time(Inputs inputs, String field, String value) {
        if (value == null) {
            return inputs.error(field, "REQUIRED", "required (RFC 3339)");
        }
        try {
            return OffsetDateTime.parse(value).toInstant().truncatedTo(ChronoUnit.MILLIS);
        } catch (DateTimeParseException e) {
            return inputs.error(field, "INVALID_TIME", "an RFC 3339 time, e.g. 2026-12-24T12:00:00Z");
        }
    }

    private static <E extends Enum<E>> E enumOf(Inputs inputs, Class<E> type, String field, String value) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value)) {
                return constant;
            }
        }
        return inputs.error(field, "INVALID_VALUE", "one of " + Arrays.toString(type.getEnumConstants()));
    }
}
