package dev.agentescrow.backend.market.web;

import dev.agentescrow.backend.common.web.FeatureOpenApi;
import java.util.Map;
import java.util.TreeMap;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The marketplace's error codes in the document's {@code x-error-codes}, and the problem+json
 * schema on its operations' refusals.
 */
@Configuration(proxyBeanMethods = false)
public class MarketOpenApi {
    /** Every code the marketplace answers beyond the service-wide ones, and what it means. */
    static final Map<String, String> CODES = new TreeMap<>(Map.ofEntries(
            Map.entry("MARKET_PRICE_REQUIRED", "422: a service needs a price; errors[0] carries the suggested price"
                    + " (suggestedMedian, suggestedMin, suggestedMax, sampleSize) when recent requests exist"),
            Map.entry("MARKET_ID_CONFLICT", "422: the Idempotency-Key made a service or request with other terms"),
            Map.entry("MARKET_TOKEN_FIXED", "422: a service's token cannot change"),
            Map.entry("MARKET_SERVICE_WITHDRAWN", "409: the service was withdrawn"),
            Map.entry("MARKET_SELF_REQUEST", "422: a provider cannot request its own service"),
            Map.entry("MARKET_UNITS_NOT_PRICED", "422: the service is priced per request: units is 1"),
            Map.entry("MARKET_PRICE_ABOVE_MAX_BASE", "422: the service's cost (price times units) is above the request's"
                    + " maxBase: the provider changed its price"),
            Map.entry("MARKET_AMOUNT_TOO_LARGE", "422: the request's escrow (price times units times the largest"
                    + " multiplier) would be above 2^256 - 1"),
            Map.entry("MARKET_ARBITER_IS_PARTY", "422: the platform's arbiter cannot be the consumer or the provider"),
            Map.entry("MARKET_NO_ARBITER", "503: no marketplace arbiter is configured"),
            Map.entry("MARKET_ESCROW_REFUSED", "409: the request's escrow refused the provider's acceptance"),
            Map.entry("MARKET_PROVIDER_ONLY", "403: only the request's provider completes it or disputes a failure"),
            Map.entry("MARKET_CONSUMER_ONLY", "403: only the request's consumer scores it or reports failure"),
            Map.entry("MARKET_ALREADY_COMPLETED", "409: the request was completed already"),
            Map.entry("MARKET_NOT_COMPLETED", "409: the provider has not completed the request"),
            Map.entry("MARKET_ALREADY_SCORED", "409: the request was scored already"),
            Map.entry("MARKET_ESCROW_CLOSED", "409: the request's or task's escrow ended outside the marketplace's steps (its"
                    + " deadline and grace, its fallback, or a party through the escrow API): the request or task is"
                    + " CLOSED, or its escrow cannot take the step"),
            Map.entry("MARKET_REQUEST_EXPIRED", "422: the late window (twice the maximum delivery time) has closed"),
            Map.entry("MARKET_BUDGET_TOO_SMALL", "422: the task's budget divided by its largest multiplier is below one"
                    + " base unit"),
            Map.entry("MARKET_BID_ABOVE_MAX", "422: the bid is above the task's maximum base price (budget / largest"
                    + " multiplier)"),
            Map.entry("MARKET_BIDDING_CLOSED", "409: the task's bidding window has closed"),
            Map.entry("MARKET_CAPABILITY_MISSING", "422: the bidder lists no active service covering the task's"
                    + " capabilities"),
            Map.entry("MARKET_DUPLICATE_BID", "409: the bidder has bid on this task already"),
            Map.entry("MARKET_TOO_MANY_BIDS", "409: the task has 1,000 bids, the most it takes"),
            Map.entry("MARKET_SELF_BID", "422: the poster cannot bid on its own task"),
            Map.entry("MARKET_NOT_ALLOCATED", "409: the task has no winner (bidding open, or closed unallocated)"),
            Map.entry("MARKET_WINNER_ONLY", "403: only the task's winner completes it"),
            Map.entry("MARKET_POSTER_ONLY", "403: only the task's poster scores it or reports failure"),
            Map.entry("MARKET_EVALUATOR_ONLY", "403: the task or request names an evaluator: only it scores (or reports"
                    + " failure)"),
            Map.entry("MARKET_EVALUATOR_IS_PARTY", "422: the provider cannot be its own request's evaluator"),
            Map.entry("MARKET_EVALUATOR_BID", "422: the task's evaluator cannot bid on it"),
            Map.entry("MARKET_TASK_FAILED", "409: a failure was reported for the task, or it failed, or the arbiter"
                    + " decided it"),
            Map.entry("MARKET_REQUEST_FAILED", "409: a failure was reported for the request, or it failed (reported, or"
                    + " not delivered by the end of its late window), or the arbiter decided it"),
            Map.entry("MARKET_NO_FAILURE_REPORTED", "409: no failure is reported for the task or request: nothing to"
                    + " dispute"),
            Map.entry("MARKET_ALREADY_DISPUTED", "409: the winner (provider) disputed the failure already"),
            Map.entry("MARKET_DISPUTE_WINDOW_CLOSED", "422: the reported failure's dispute window has ended (the poster"
                    + " was refunded)"),
            Map.entry("MARKET_ARBITER_ONLY", "403: only the platform's arbiter (the task's or request's escrow's)"
                    + " decides a dispute"),
            Map.entry("MARKET_NOT_DISPUTED", "409: the task or request is not disputed"),
            Map.entry("MARKET_ALREADY_DECIDED", "409: the arbiter decided the dispute already"),
            Map.entry("MARKET_SPLIT_ABOVE_ESCROW", "422: the arbiter's award to the winner (provider) is above what the"
                    + " escrow holds"),
            Map.entry("MARKET_TASK_EXPIRED", "422: the task's late window (twice the time for the work) has closed"),
            Map.entry("INVALID_CAPABILITY", "400 field code: a capability tag is lower-case letters, digits, '.', '_', '-'"),
            Map.entry("ESCROW_FEE_ABOVE_MAX", "422: the platform fee is above the maximum the escrow accepts")));

    @Bean
    OpenApiCustomizer marketProblems() {
        return FeatureOpenApi.errorCodes(CODES, p -> p.startsWith("/api/v1/market"));
    }
}
