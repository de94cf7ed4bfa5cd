package dev.agentescrow.backend.workflow.web;

import dev.agentescrow.backend.common.web.FeatureOpenApi;
import java.util.Map;
import java.util.TreeMap;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The workflows' error codes in the document's {@code x-error-codes}, and problem+json on their refusals. */
@Configuration(proxyBeanMethods = false)
public class WorkflowOpenApi {
    /** Every code the workflows answer beyond the service-wide ones, and what it means. */
    static final Map<String, String> CODES = new TreeMap<>(Map.ofEntries(
            Map.entry("WORKFLOW_EMPTY", "422: a workflow has at least one step"),
            Map.entry("WORKFLOW_TOO_LARGE", "422: a workflow has at most 16 steps"),
            Map.entry("WORKFLOW_DUPLICATE_STEP", "422: two steps share a key, or a step names a dependency twice"),
            Map.entry("WORKFLOW_UNKNOWN_DEPENDENCY", "422: a step depends on a key no step has"),
            Map.entry("WORKFLOW_SELF_DEPENDENCY", "422: a step depends on itself"),
            Map.entry("WORKFLOW_CYCLE", "422: the dependencies form a cycle"),
            Map.entry("WORKFLOW_SPLIT_NOT_ALLOWED", "422: an EXECUTION_TIME split is for ATOMIC workflows only"),
            Map.entry("WORKFLOW_WEIGHTS_MISMATCH", "422: a WEIGHTS split gives every step a weight, adding up to"
                    + " exactly 10000; other splits take none"),
            Map.entry("WORKFLOW_PRICES_MISMATCH", "422: a PRICES split gives every step a price (an amount, if given,"
                    + " equals their sum); other splits take none"),
            Map.entry("WORKFLOW_AMOUNT_REQUIRED", "422: an amount is required unless the split is PRICES"),
            Map.entry("WORKFLOW_AMOUNT_TOO_SMALL", "422: the split leaves a step a share of zero"),
            Map.entry("WORKFLOW_AMOUNT_TOO_LARGE", "422: the prices add up to more than 2^256 - 1"),
            Map.entry("WORKFLOW_AGENT_IS_PAYER", "422: the payer cannot be a step's agent or the evaluator"),
            Map.entry("WORKFLOW_DEADLINE_PASSED", "422: every step's deadline must be in the future"),
            Map.entry("WORKFLOW_DEADLINE_TOO_FAR", "422: a step's deadline is beyond agentescrow.workflow.max-duration"),
            Map.entry("WORKFLOW_FEE_ABOVE_MAX", "422: the platform fee is above the maxFeeBps the payer accepts"),
            Map.entry("WORKFLOW_ID_CONFLICT", "422: the Idempotency-Key made a workflow with other terms"),
            Map.entry("WORKFLOW_ACTION_CONFLICT", "409: the ledger holds a different transfer under this workflow's id"),
            Map.entry("WORKFLOW_EVALUATOR_MISSING", "422: performance pay needs an evaluator to score each success"),
            Map.entry("WORKFLOW_EVALUATOR_REQUIRED", "403: with performance pay only the evaluator reports a success"),
            Map.entry("WORKFLOW_SCORES_REQUIRED", "422: with performance pay a success carries scores (quality 0-200,"
                    + " accuracy 0-150)"),
            Map.entry("WORKFLOW_SCORES_NOT_APPLICABLE", "422: scores apply only to a success under performance pay"),
            Map.entry("WORKFLOW_STEP_NOT_FOUND", "404: the workflow has no step with this key"),
            Map.entry("WORKFLOW_REPORTER_REQUIRED", "403: only the step's agent or the workflow's evaluator reports"),
            Map.entry("WORKFLOW_STEP_NOT_STARTED", "409: the step waits for its dependencies"),
            Map.entry("WORKFLOW_STEP_FINISHED", "409: the step was reported already, or failed by its deadline or a"
                    + " dependency"),
            Map.entry("WORKFLOW_AUCTION_MISMATCH", "422: a step names its agent, or instead gives a budget and a"
                    + " biddingClosesAt (no weight, no price); with every step auctioned an amount equals the budgets"),
            Map.entry("WORKFLOW_BIDDING_WINDOW", "422: an auctioned step's bidding closes in the future and before its"
                    + " deadline"),
            Map.entry("WORKFLOW_BUDGET_TOO_SMALL", "422: an auctioned step's budget divided by the largest multiplier"
                    + " is below one base unit"),
            Map.entry("WORKFLOW_SELF_BID", "422: the workflow's payer cannot bid on its steps"),
            Map.entry("WORKFLOW_EVALUATOR_BID", "422: the workflow's evaluator cannot bid on its steps"),
            Map.entry("WORKFLOW_STEP_NOT_AUCTIONED", "409: the step names its agent: it takes no bids"),
            Map.entry("WORKFLOW_BIDDING_CLOSED", "409: the step's bidding window has closed"),
            Map.entry("WORKFLOW_BID_ABOVE_MAX", "422: the ask is above the step's maximum base price"),
            Map.entry("WORKFLOW_CAPABILITY_MISSING", "422: the bidder lists no active service covering the step's"
                    + " capability"),
            Map.entry("WORKFLOW_DUPLICATE_BID", "409: the bidder has bid on this step already"),
            Map.entry("WORKFLOW_BIDS_FULL", "409: the step has the most bids it takes (100)")));

    @Bean
    OpenApiCustomizer workflowProblems() {
        return FeatureOpenApi.errorCodes(CODES, p -> p.startsWith("/api/v1/workflows"));
    }
}
