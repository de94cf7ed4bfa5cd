package dev.agentescrow.backend.market;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.web3j.crypto.Credentials;
import tools.jackson.databind.JsonNode;

/**
 * The marketplace over real HTTP: register, search, request (the ledger escrow funded: balances),
 * complete, score, payout above and below base with the rest refunded (every balance exact: the
 * consumer, the provider, FEES and the escrow's own account), every refusal, replays, and
 * concurrent completions and scorings paying once. Every party is a fresh key signed in with SIWE;
 * the funder is a fresh key given ETH by {@code hardhat_setBalance} and tokens by the faucet, which
 * deposits on chain and hands out ledger transfers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MarketIT extends BackendITSupport {
    private static final BigInteger FEE_BPS = BigInteger.valueOf(100);

    @Autowired
    Batcher batcher;

    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    private String token;
    private Agent funder;

    record Agent(String address, String accessToken, Credentials key) {
        Address addr() {
            return Address.of(address);
        }
    }

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        FreshAgents.FreshAgent fresh = FreshAgents.signIn(api(), TestChain.fundedFreshKey());
        funder = new Agent(fresh.address(), fresh.accessToken(), fresh.key());
        ApiClient.Response minted = api().post("/api/v1/faucet", funder.accessToken(), key(),
                Map.of("token", token, "amount", "50000000"));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        var vault = CHAIN.deployment().vault(CHAIN.client());
        var erc20 = CHAIN.deployment().token(CHAIN.client());
        var signer = CHAIN.client().signer(funder.key());
        erc20.approve(signer, vault.address(), Amount.of(50_000_000));
        vault.deposit(signer, Address.of(token), Amount.of(50_000_000));
        awaitUntil("the funder's deposit credited", () -> available(funder).signum() > 0);
    }

    // ------------------------------------------------------------------ helpers

    private Agent agent() {
        FreshAgents.FreshAgent fresh = FreshAgents.signIn(api());
        return new Agent(fresh.address(), fresh.accessToken(), fresh.key());
    }

    private Agent funded(long amount) {
        Agent agent = agent();
        ApiClient.Response paid = api().post("/api/v1/transfers", funder.accessToken(), key(),
                Map.of("to", agent.address(), "token", token, "amount", Long.toString(amount)));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        return agent;
    }

    /** The agent's available balance, read with every ledger write so far included (X-Min-Sequence). */
    private BigInteger available(Agent agent) {
        return balances().available(agent.accessToken());
    }

    private BigInteger fees() {
        return balances().fees();
    }

    private BigInteger escrowAccount(String id) {
        return balances().escrowAccount(id);
    }

    private LedgerBalances balances() {
        return new LedgerBalances(api(), batcher.reads(), token);
    }

    private static BigInteger big(long value) {
        return BigInteger.valueOf(value);
    }

    private static BigInteger fee(long gross) {
        return big(gross).multiply(FEE_BPS).divide(big(10_000));
    }

    private Map<String, Object> service(String capability, String price, String unit) {
        Map<String, Object> body = new HashMap<>();
        body.put("capabilities", List.of(capability, "text"));
        body.put("description", "summaries of documents");
        body.put("token", token);
        if (price != null) {
            body.put("price", price);
        }
        if (unit != null) {
            body.put("unit", unit);
        }
        body.put("maxDeliverySeconds", 3600);
        return body;
    }

    private String registered(Agent provider, Map<String, Object> body) {
        ApiClient.Response response = api().post("/api/v1/market/services", provider.accessToken(), key(), body);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("state").asString()).isEqualTo("ACTIVE");
        return response.json().path("id").asString();
    }

    private ApiClient.Response request(Agent consumer, String serviceId, Map<String, Object> body) {
        return api().post("/api/v1/market/services/" + serviceId + "/requests", consumer.accessToken(), key(), body);
    }

    private JsonNode requested(Agent consumer, String serviceId, Map<String, Object> body) {
        ApiClient.Response response = request(consumer, serviceId, body);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("state").asString()).isEqualTo("ESCROWED");
        return response.json();
    }

    private ApiClient.Response complete(Agent who, String requestId, String ref) {
        return api().post("/api/v1/market/requests/" + requestId + "/complete", who.accessToken(), key(),
                Map.of("resultRef", ref));
    }

    private ApiClient.Response score(Agent who, String requestId, int quality, int accuracy) {
        return api().post("/api/v1/market/requests/" + requestId + "/score", who.accessToken(), key(),
                Map.of("quality", quality, "accuracy", accuracy));
    }

    /** The service's stats (totalRequests, scoredRequests, rating, successRateBps) as {@code expected} says. */
    private void assertStats(String serviceId, Agent who, Map<String, Long> expected) {
        JsonNode stats = ok(api().get("/api/v1/market/services/" + serviceId, who.accessToken())).path("stats");
        expected.forEach((field, value) -> assertThat(stats.path(field).asLong()).as(field).isEqualTo(value));
    }

    private ApiClient.Response put(String path, Agent who, Object body) {
        return api().send(api().request(path, who.accessToken()).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(ApiClient.JSON.writeValueAsString(body))).build());
    }

    private static JsonNode ok(ApiClient.Response response) {
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    private static void refused(ApiClient.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.code()).as(response.toString()).isEqualTo(code);
        assertThat(response.header("Content-Type")).startsWith("application/problem+json");
    }

    private JsonNode escrow(Agent who, String id) {
        return ok(api().get("/api/v1/escrows/" + id, who.accessToken()));
    }

    // ------------------------------------------------------------------ the flow

    @Test
    void a_request_funds_its_escrow_and_a_fast_good_result_is_paid_above_base_with_the_rest_refunded() {
        Agent provider = agent();
        Agent consumer = funded(100_000);
        String serviceId = registered(provider, service("summarize", "1000", null));
        BigInteger feesBefore = fees();

        JsonNode request = requested(consumer, serviceId, Map.of("input", "ipfs://doc-1", "maxMultiplierBps", 20_000));
        String id = request.path("id").asString();
        String escrowId = request.path("escrowId").asString();
        assertThat(request.path("base").asString()).isEqualTo("1000");
        assertThat(request.path("escrowed").asString()).isEqualTo("2000");
        assertThat(available(consumer)).isEqualTo(big(98_000));
        assertThat(escrowAccount(escrowId)).isEqualTo(big(2_000));
        JsonNode held = escrow(consumer, escrowId);
        assertThat(held.path("state").asString()).isEqualTo("FUNDED");
        assertThat(held.path("arbiter").asString()).isEqualToIgnoringCase(MARKET_ARBITER);
        assertThat(held.path("payees").get(0).path("address").asString()).isEqualTo(provider.address());
        assertThat(ok(api().get("/api/v1/market/requests/" + id, provider.accessToken())).path("myRoles").get(0)
                .asString()).isEqualTo("PROVIDER");

        JsonNode done = ok(complete(provider, id, "sha256:" + "ab".repeat(32)));
        assertThat(done.path("state").asString()).isEqualTo("COMPLETED");

        // immediate delivery: speed 1.5x; quality 100 and accuracy 100: 1.0x each; 1.5x <= the 2.0x allowed
        JsonNode scored = ok(score(consumer, id, 100, 100));
        assertThat(scored.path("state").asString()).isEqualTo("SCORED");
        assertThat(scored.path("payout").asString()).isEqualTo("1500");
        assertThat(scored.path("refund").asString()).isEqualTo("500");
        JsonNode breakdown = scored.path("breakdown");
        assertThat(breakdown.path("speedBps").asInt()).isEqualTo(15_000);
        assertThat(breakdown.path("productBps").asLong()).isEqualTo(15_000);
        assertThat(breakdown.path("clamped").asBoolean()).isFalse();
        assertThat(breakdown.path("arithmetic").asString()).contains("= 1500");

        assertThat(available(provider)).isEqualTo(big(1_500).subtract(fee(1_500)));
        assertThat(available(consumer)).isEqualTo(big(98_500));
        assertThat(escrowAccount(escrowId)).isZero();
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(1_500));
        assertThat(escrow(consumer, escrowId).path("state").asString()).isEqualTo("RESOLVED");

        assertStats(serviceId, consumer, Map.of("totalRequests", 1L, "scoredRequests", 1L, "rating", 100L,
                "successRateBps", 10_000L));
    }

    @Test
    void a_poor_result_is_paid_below_base_and_a_perfect_one_is_clamped_to_the_escrow() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        String serviceId = registered(provider, service("translate", "1000", null));
        BigInteger feesBefore = fees();

        String poor = requested(consumer, serviceId, Map.of()).path("id").asString();
        ok(complete(provider, poor, "ipfs://result-poor"));
        // 0.5 (quality 50) * 1.5 (fast) * 0.5 (accuracy 50) = 0.375 of 1000
        JsonNode low = ok(score(consumer, poor, 50, 50));
        assertThat(low.path("payout").asString()).isEqualTo("375");
        assertThat(low.path("refund").asString()).isEqualTo("1125");

        String perfect = requested(consumer, serviceId, Map.of()).path("id").asString();
        JsonNode perfectRequest = ok(api().get("/api/v1/market/requests/" + perfect, consumer.accessToken()));
        ok(complete(provider, perfect, "ipfs://result-perfect"));
        // 2.0 * 1.5 * 1.5 = 4.5, clamped to the default 1.5x: the whole escrow, released by the consumer
        JsonNode high = ok(score(consumer, perfect, 200, 150));
        assertThat(high.path("payout").asString()).isEqualTo("1500");
        assertThat(high.path("refund").asString()).isEqualTo("0");
        assertThat(high.path("breakdown").path("clamped").asBoolean()).isTrue();
        assertThat(escrow(consumer, perfectRequest.path("escrowId").asString()).path("state").asString())
                .isEqualTo("COMPLETED");

        assertThat(available(consumer)).isEqualTo(big(10_000 - 1_500 - 1_500 + 1_125));
        assertThat(available(provider)).isEqualTo(big(375).subtract(fee(375)).add(big(1_500)).subtract(fee(1_500)));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(375).add(fee(1_500)));
        assertStats(serviceId, consumer, Map.of("scoredRequests", 2L, "rating", 125L, "successRateBps", 5_000L));
    }

    @Test
    void a_per_unit_price_is_multiplied_by_the_units() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        String serviceId = registered(provider, service("tokens", "7", "kilotoken"));
        JsonNode request = requested(consumer, serviceId, Map.of("units", 30, "maxMultiplierBps", 10_000));
        assertThat(request.path("base").asString()).isEqualTo("210");
        assertThat(request.path("escrowed").asString()).isEqualTo("210");
        assertThat(available(consumer)).isEqualTo(big(10_000 - 210));
        refused(request(consumer, registered(provider, service("tokens", "7", null)), Map.of("units", 2)), 422,
                "MARKET_UNITS_NOT_PRICED");
    }

    @Test
    void a_request_whose_escrow_would_exceed_uint256_is_refused_with_a_problem_not_a_5xx() {
        Agent provider = agent();
        Agent consumer = funded(1_000);
        String max = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE).toString();
        // per request: 2^256 - 1 at the default 1.5x needs an escrow above uint256
        refused(request(consumer, registered(provider, service("tokens", max, null)), Map.of()), 422,
                "MARKET_AMOUNT_TOO_LARGE");
        // per unit: 2^256 - 1 times two units
        refused(request(consumer, registered(provider, service("tokens", max, "page")), Map.of("units", 2,
                "maxMultiplierBps", 10_000)), 422, "MARKET_AMOUNT_TOO_LARGE");
        assertThat(available(consumer)).isEqualTo(big(1_000));
    }

    @Test
    void a_price_raised_before_the_request_is_refused_above_the_consumers_max_base() {
        Agent provider = agent();
        Agent consumer = funded(100_000);
        String serviceId = registered(provider, service("summarize", "100", null));
        // the provider raises its price between the consumer's read of the service and its request
        ok(put("/api/v1/market/services/" + serviceId, provider, service("summarize", "50000", null)));
        refused(request(consumer, serviceId, Map.of("maxBase", "100")), 422, "MARKET_PRICE_ABOVE_MAX_BASE");
        assertThat(available(consumer)).isEqualTo(big(100_000));
        refused(request(consumer, serviceId, Map.of("maxBase", "-1")), 400, "VALIDATION_FAILED");
        JsonNode accepted = requested(consumer, serviceId, Map.of("maxBase", "50000"));
        assertThat(accepted.path("base").asString()).isEqualTo("50000");
    }

    @Test
    void scored_outcomes_build_a_reputation_whose_bonus_raises_the_next_payout() {
        Agent provider = agent();
        String serviceId = registered(provider, service("review", "100000", null));
        // a consumer who also scored two other providers weighs 2,000 bps; a fresh one 500
        Agent broad = funded(1_000_000);
        for (int i = 0; i < 2; i++) {
            Agent other = agent();
            String otherService = registered(other, service("review", "10", null));
            String r = requested(broad, otherService, Map.of()).path("id").asString();
            ok(complete(other, r, "ipfs://other"));
            ok(score(broad, r, 100, 100));
        }
        JsonNode fresh = ok(api().get("/api/v1/market/agents/" + provider.address() + "/reputation",
                provider.accessToken()));
        assertThat(fresh.path("bonusBps").asInt()).isZero();
        assertThat(fresh.path("outcomesCounted").asInt()).isZero();

        String first = requested(broad, serviceId, Map.of("maxMultiplierBps", 45_000)).path("id").asString();
        ok(complete(provider, first, "ipfs://1"));
        assertThat(ok(score(broad, first, 200, 100)).path("breakdown").path("reputationBps").asInt()).isEqualTo(10_000);

        JsonNode reputation = ok(api().get("/api/v1/market/agents/" + provider.address() + "/reputation",
                broad.accessToken()));
        // one outcome: value 10,000, weight decay ~10,000 * 2,000 / 10,000 = ~2,000: confidence ~200, bonus ~20
        assertThat(reputation.path("reputationBps").asInt()).isEqualTo(10_000);
        assertThat(reputation.path("history").get(0).path("counterpartyBps").asLong()).isEqualTo(2_000);
        int bonus = reputation.path("bonusBps").asInt();
        assertThat(bonus).isBetween(19, 20);

        String second = requested(broad, serviceId, Map.of("maxMultiplierBps", 45_000)).path("id").asString();
        ok(complete(provider, second, "ipfs://2"));
        JsonNode scored = ok(score(broad, second, 100, 100));
        JsonNode breakdown = scored.path("breakdown");
        assertThat(breakdown.path("reputationBps").asInt()).isEqualTo(10_000 + bonus);
        // 1.0 * 1.5 * 1.0 * (1 + bonus) of 100,000, floored once
        assertThat(scored.path("payout").asString()).isEqualTo(BigInteger.valueOf(100_000L * 15_000 * (10_000 + bonus))
                .divide(BigInteger.valueOf(100_000_000L)).toString());
        refused(api().get("/api/v1/market/agents/not-an-address/reputation", broad.accessToken()), 400,
                "VALIDATION_FAILED");
    }

    // ------------------------------------------------------------------ refusals

    @Test
    void insufficient_funds_make_no_request_and_no_escrow() {
        Agent provider = agent();
        Agent consumer = funded(1_000);
        String serviceId = registered(provider, service("summarize", "1000", null));
        refused(request(consumer, serviceId, Map.of()), 422, "INSUFFICIENT_FUNDS");
        assertThat(available(consumer)).isEqualTo(big(1_000));
        assertThat(ok(api().get("/api/v1/market/requests", consumer.accessToken())).path("items").size()).isZero();
        assertThat(ok(api().get("/api/v1/escrows", consumer.accessToken())).path("items").size()).isZero();
        assertStats(serviceId, consumer, Map.of("totalRequests", 0L));
    }

    @Test
    void every_refusal_of_completion_and_scoring_has_its_code() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        Agent stranger = agent();
        String serviceId = registered(provider, service("classify", "100", null));
        String id = requested(consumer, serviceId, Map.of()).path("id").asString();

        refused(score(consumer, id, 100, 100), 409, "MARKET_NOT_COMPLETED");
        refused(complete(consumer, id, "ipfs://x"), 403, "MARKET_PROVIDER_ONLY");
        refused(complete(stranger, id, "ipfs://x"), 404, "NOT_FOUND");
        refused(api().get("/api/v1/market/requests/" + id, stranger.accessToken()), 404, "NOT_FOUND");
        refused(api().get("/api/v1/market/requests/req_" + "0".repeat(32), consumer.accessToken()), 404, "NOT_FOUND");
        refused(complete(provider, id, ""), 400, "VALIDATION_FAILED");
        ok(complete(provider, id, "ipfs://x"));
        refused(complete(provider, id, "ipfs://y"), 409, "MARKET_ALREADY_COMPLETED");
        refused(score(provider, id, 100, 100), 403, "MARKET_CONSUMER_ONLY");
        refused(score(stranger, id, 100, 100), 404, "NOT_FOUND");
        refused(score(consumer, id, 201, 100), 400, "VALIDATION_FAILED");
        refused(score(consumer, id, 100, -1), 400, "VALIDATION_FAILED");
        ok(score(consumer, id, 100, 100));
        refused(score(consumer, id, 100, 100), 409, "MARKET_ALREADY_SCORED");

        refused(request(provider, serviceId, Map.of()), 422, "MARKET_SELF_REQUEST");
        refused(request(consumer, serviceId, Map.of("maxMultiplierBps", 45_001)), 400, "VALIDATION_FAILED");
        refused(request(consumer, "svc_" + "0".repeat(32), Map.of()), 404, "NOT_FOUND");
        refused(api().post("/api/v1/market/services/" + serviceId + "/withdraw", stranger.accessToken(), key(), "{}"),
                404, "NOT_FOUND");
        JsonNode withdrawn = ok(api().post("/api/v1/market/services/" + serviceId + "/withdraw", provider.accessToken(),
                key(), "{}"));
        assertThat(withdrawn.path("state").asString()).isEqualTo("WITHDRAWN");
        refused(request(consumer, serviceId, Map.of()), 409, "MARKET_SERVICE_WITHDRAWN");
    }

    private JsonNode requestOf(Agent who, String id) {
        return ok(api().get("/api/v1/market/requests/" + id, who.accessToken()));
    }

    /** The request once it has left {@code state} (polled with a deadline). */
    private JsonNode leaves(Agent who, String id, String state) {
        JsonNode[] last = new JsonNode[1];
        awaitUntil("request " + id + " left " + state, () -> !state.equals((last[0] = requestOf(who, id)).path("state")
                .asString()));
        return last[0];
    }

    private long count(String sql, Object... args) {
        return jdbc.queryForObject(sql, Long.class, args);
    }

    private JsonNode outcomeOf(Agent agent, String subjectId) {
        for (JsonNode outcome : ok(api().get("/api/v1/market/agents/" + agent.address() + "/reputation",
                agent.accessToken())).path("history")) {
            if (outcome.path("subjectId").asString().equals(subjectId)) {
                return outcome;
            }
        }
        return null;
    }

    @Test
    void a_request_never_delivered_fails_at_the_end_of_its_late_window_with_the_consumer_refunded() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        Map<String, Object> quick = service("instant", "100", null);
        quick.put("maxDeliverySeconds", 1);
        String serviceId = registered(provider, quick);
        JsonNode request = requested(consumer, serviceId, Map.of());
        String id = request.path("id").asString();
        String escrowId = request.path("escrowId").asString();
        // the escrow's deadline is the end of the late window: twice the maximum delivery time; then the
        // request has missed it (as a task's winner would): the consumer is refunded at once, no dispute window
        JsonNode failed = leaves(consumer, id, "ESCROWED");
        assertThat(failed.path("state").asString()).as(failed.toString()).isEqualTo("FAILED");
        assertThat(failed.path("failure").path("reason").asString()).isEqualTo("DEADLINE_MISSED");
        assertThat(failed.path("failure").has("disputeWindowEnds")).isFalse();
        assertThat(failed.path("payout").asString()).isEqualTo("0");
        assertThat(failed.path("refund").asString()).isEqualTo("150");
        assertThat(escrow(consumer, escrowId).path("state").asString()).isEqualTo("EXPIRED");
        assertThat(available(consumer)).isEqualTo(big(10_000));
        assertThat(escrowAccount(escrowId)).isZero();
        refused(complete(provider, id, "ipfs://too-late"), 422, "MARKET_REQUEST_EXPIRED");
        refused(score(consumer, id, 100, 100), 409, "MARKET_REQUEST_FAILED");
        refused(act(provider, id, "dispute", Map.of("reason", "no")), 409, "MARKET_NO_FAILURE_REPORTED");
        assertStats(serviceId, consumer, Map.of("totalRequests", 1L, "scoredRequests", 1L, "rating", 0L,
                "successRateBps", 0L));
        JsonNode outcome = outcomeOf(provider, id);
        assertThat(outcome).isNotNull();
        assertThat(outcome.path("kind").asString()).isEqualTo("REQUEST");
        assertThat(outcome.path("result").asString()).isEqualTo("DEADLINE_MISSED");
        assertThat(outcome.path("late").asBoolean()).isTrue();
        assertThat(count("SELECT count(*) FROM backend.audit_records WHERE object_id = ?"
                + " AND action = 'MARKET_REQUEST_FAILED'", id)).isEqualTo(1L);
        assertThat(count("SELECT count(*) FROM backend.events WHERE object_id = ? AND type = 'market.request_failed'",
                id)).isEqualTo(1L);
    }

    private ApiClient.Response act(Agent who, String id, String action, Map<String, Object> body) {
        return api().post("/api/v1/market/requests/" + id + "/" + action, who.accessToken(), key(), body);
    }

    private Agent arbiter() {
        FreshAgents.FreshAgent fresh = FreshAgents.signIn(api(), MARKET_ARBITER_KEY);
        return new Agent(fresh.address(), fresh.accessToken(), fresh.key());
    }

    @Test
    void a_reported_request_failure_undisputed_in_its_window_refunds_the_consumer_and_counts_against_the_provider() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        Agent stranger = agent();
        String serviceId = registered(provider, service("fails", "1000", null));
        JsonNode request = requested(consumer, serviceId, Map.of("disputeWindowSeconds", 2));
        String id = request.path("id").asString();
        String escrowId = request.path("escrowId").asString();
        assertThat(request.path("disputeWindowSeconds").asLong()).isEqualTo(2);
        assertThat(available(consumer)).isEqualTo(big(8_500));

        refused(act(provider, id, "failure", Map.of("reason", "mine")), 403, "MARKET_CONSUMER_ONLY");
        refused(act(stranger, id, "failure", Map.of("reason", "theirs")), 404, "NOT_FOUND");
        refused(act(consumer, id, "failure", Map.of()), 400, "VALIDATION_FAILED");
        refused(act(provider, id, "dispute", Map.of("reason", "nothing reported")), 409, "MARKET_NO_FAILURE_REPORTED");
        refused(request(consumer, serviceId, Map.of("disputeWindowSeconds", 0)), 400, "VALIDATION_FAILED");
        JsonNode reported = ok(act(consumer, id, "failure", Map.of("reason", "nothing arrived")));
        assertThat(reported.path("state").asString()).isIn("FAILURE_REPORTED", "FAILED");
        assertThat(reported.path("failure").path("reason").asString()).isEqualTo("REPORTED");
        assertThat(reported.path("failure").path("detail").asString()).isEqualTo("nothing arrived");
        refused(act(consumer, id, "failure", Map.of("reason", "again")), 409, "MARKET_REQUEST_FAILED");
        refused(complete(provider, id, "ipfs://late"), 409, "MARKET_REQUEST_FAILED");
        refused(act(consumer, id, "dispute", Map.of("reason", "me")), 403, "MARKET_PROVIDER_ONLY");

        // undisputed: after the window the consumer is refunded everything; the provider's outcome is a failure
        JsonNode failed = leaves(consumer, id, "FAILURE_REPORTED");
        assertThat(failed.path("state").asString()).as(failed.toString()).isEqualTo("FAILED");
        assertThat(failed.path("payout").asString()).isEqualTo("0");
        assertThat(failed.path("refund").asString()).isEqualTo("1500");
        assertThat(available(consumer)).isEqualTo(big(10_000));
        assertThat(available(provider)).isZero();
        assertThat(escrowAccount(escrowId)).isZero();
        refused(act(provider, id, "dispute", Map.of("reason", "too late")), 422, "MARKET_DISPUTE_WINDOW_CLOSED");
        refused(score(consumer, id, 100, 100), 409, "MARKET_REQUEST_FAILED");
        // a failure is a verdict on the service's work: its record counts it, quality 0, not a success
        assertStats(serviceId, consumer, Map.of("totalRequests", 1L, "scoredRequests", 1L, "rating", 0L,
                "successRateBps", 0L));
        JsonNode outcome = outcomeOf(provider, id);
        assertThat(outcome.path("result").asString()).isEqualTo("FAILED");
        assertThat(outcome.path("quality").asInt()).isZero();
        assertThat(count("SELECT count(*) FROM backend.audit_records WHERE object_id = ?"
                + " AND action IN ('MARKET_REQUEST_FAILURE_REPORTED', 'MARKET_REQUEST_FAILED')", id)).isEqualTo(2L);
        assertThat(count("SELECT count(*) FROM backend.events WHERE object_id = ?"
                + " AND type IN ('market.request_failure_reported', 'market.request_failed')", id)).isEqualTo(2L);
    }

    @Test
    void a_disputed_request_failure_is_decided_once_by_the_platforms_arbiter() throws Exception {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        Agent stranger = agent();
        Agent arbiter = arbiter();
        String serviceId = registered(provider, service("disputed", "1000", null));
        JsonNode request = requested(consumer, serviceId, Map.of("disputeWindowSeconds", 3_600));
        String id = request.path("id").asString();
        String escrowId = request.path("escrowId").asString();
        ok(complete(provider, id, "ipfs://r"));
        refused(act(arbiter, id, "decision", Map.of("toProvider", "1")), 409, "MARKET_NOT_DISPUTED");
        JsonNode reported = ok(act(consumer, id, "failure", Map.of("reason", "wrong language")));
        assertThat(reported.path("state").asString()).isEqualTo("FAILURE_REPORTED");
        assertThat(escrow(consumer, escrowId).path("state").asString()).isEqualTo("DISPUTED");
        refused(score(consumer, id, 100, 100), 409, "MARKET_REQUEST_FAILED");
        JsonNode disputed = ok(act(provider, id, "dispute", Map.of("reason", "it is in English as asked")));
        assertThat(disputed.path("state").asString()).isEqualTo("DISPUTED");
        assertThat(disputed.path("failure").path("disputeDetail").asString()).isEqualTo("it is in English as asked");
        refused(act(provider, id, "dispute", Map.of("reason", "again")), 409, "MARKET_ALREADY_DISPUTED");

        // the arbiter sees the request it decides; a stranger does not
        assertThat(ok(api().get("/api/v1/market/requests/" + id, arbiter.accessToken())).path("state").asString())
                .isEqualTo("DISPUTED");
        refused(api().get("/api/v1/market/requests/" + id, stranger.accessToken()), 404, "NOT_FOUND");
        refused(act(consumer, id, "decision", Map.of("toProvider", "1")), 403, "MARKET_ARBITER_ONLY");
        refused(act(stranger, id, "decision", Map.of("toProvider", "1")), 404, "NOT_FOUND");
        refused(act(arbiter, id, "decision", Map.of("toProvider", "1501")), 422, "MARKET_SPLIT_ABOVE_ESCROW");
        refused(act(arbiter, id, "decision", Map.of("toProvider", "-1")), 400, "VALIDATION_FAILED");

        // concurrent decisions: one pays 600 to the provider (fee 6), 900 back to the consumer
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<ApiClient.Response>> decisions = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                decisions.add(() -> act(arbiter, id, "decision", Map.of("toProvider", "600")));
            }
            assertThat(outcomes(pool.invokeAll(decisions))).containsExactlyInAnyOrder("200",
                    "409:MARKET_ALREADY_DECIDED", "409:MARKET_ALREADY_DECIDED", "409:MARKET_ALREADY_DECIDED");
        } finally {
            pool.shutdownNow();
        }
        JsonNode decided = ok(api().get("/api/v1/market/requests/" + id, consumer.accessToken()));
        assertThat(decided.path("state").asString()).isEqualTo("RESOLVED");
        assertThat(decided.path("payout").asString()).isEqualTo("600");
        assertThat(decided.path("refund").asString()).isEqualTo("900");
        assertThat(available(provider)).isEqualTo(big(600 - 6));
        assertThat(available(consumer)).isEqualTo(big(8_500 + 900));
        assertThat(escrowAccount(escrowId)).isZero();
        JsonNode outcome = outcomeOf(provider, id);
        assertThat(outcome.path("result").asString()).isEqualTo("RESOLVED");
        assertThat(outcome.path("quality").asInt()).isEqualTo(60); // 600 of the 1,000 base
        assertStats(serviceId, consumer, Map.of("totalRequests", 1L, "scoredRequests", 1L, "rating", 60L,
                "successRateBps", 0L));
        assertThat(count("SELECT count(*) FROM backend.events WHERE object_id = ? AND type = 'market.request_resolved'",
                id)).isEqualTo(1L);
    }

    @Test
    void a_request_delivered_and_never_scored_closes_expired_after_the_escrows_grace_without_an_outcome() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        String serviceId = registered(provider, service("unscored", "1000", null));
        JsonNode request = requested(consumer, serviceId, Map.of());
        String id = request.path("id").asString();
        String escrowId = request.path("escrowId").asString();
        ok(complete(provider, id, "ipfs://delivered"));
        // the consumer never scores: the escrow's deadline and grace pass (its columns moved, nothing mocked)
        assertThat(jdbc.update("UPDATE backend.escrows SET deadline = now() - INTERVAL '3 seconds', grace_seconds = 1,"
                + " due_at = now() - INTERVAL '2 seconds' WHERE id = ? AND state = 'FUNDED'", escrowId)).isEqualTo(1);
        JsonNode closed = leaves(consumer, id, "COMPLETED");
        assertThat(closed.path("state").asString()).as(closed.toString()).isEqualTo("CLOSED");
        assertThat(closed.path("closure").path("how").asString()).isEqualTo("EXPIRED");
        assertThat(closed.path("payout").asString()).isEqualTo("0");
        assertThat(closed.path("refund").asString()).isEqualTo("1500");
        assertThat(available(consumer)).isEqualTo(big(10_000));
        assertThat(available(provider)).isZero();
        assertThat(escrowAccount(escrowId)).isZero();
        assertThat(outcomeOf(provider, id)).isNull();
        refused(score(consumer, id, 100, 100), 409, "MARKET_ESCROW_CLOSED");
        refused(complete(provider, id, "ipfs://again"), 409, "MARKET_ESCROW_CLOSED");
        // no verdict on the work: the service's record counts the request, nothing else
        assertStats(serviceId, consumer, Map.of("totalRequests", 1L, "scoredRequests", 0L));
    }

    @Test
    void every_endpoint_answers_401_without_a_token_and_bad_input_is_400() {
        String[][] calls = {{"GET", "/api/v1/market/services"}, {"GET", "/api/v1/market/requests"},
            {"GET", "/api/v1/market/services/svc_" + "0".repeat(32)}, {"POST", "/api/v1/market/services"},
            {"POST", "/api/v1/market/services/svc_" + "0".repeat(32) + "/requests"},
            {"POST", "/api/v1/market/requests/req_" + "0".repeat(32) + "/complete"},
            {"POST", "/api/v1/market/requests/req_" + "0".repeat(32) + "/score"}};
        for (String[] call : calls) {
            ApiClient.Response response = "GET".equals(call[0]) ? api().get(call[1], null)
                    : api().post(call[1], null, key(), "{}");
            refused(response, 401, "UNAUTHENTICATED");
        }
        Agent provider = agent();
        Map<String, Object> bad = service("Not A Tag", "10", null);
        refused(api().post("/api/v1/market/services", provider.accessToken(), key(), bad), 400, "VALIDATION_FAILED");
        Map<String, Object> noDelivery = service("ok", "10", null);
        noDelivery.remove("maxDeliverySeconds");
        refused(api().post("/api/v1/market/services", provider.accessToken(), key(), noDelivery), 400,
                "VALIDATION_FAILED");
        Map<String, Object> otherToken = service("ok", "10", null);
        otherToken.put("token", "0x000000000000000000000000000000000000dEaD");
        refused(api().post("/api/v1/market/services", provider.accessToken(), key(), otherToken), 422, "UNKNOWN_TOKEN");
    }

    // ------------------------------------------------------------------ catalogue

    @Test
    void services_are_found_by_capability_updated_and_priced_by_suggestion() {
        String capability = "cap-" + Long.toHexString(System.nanoTime());
        Agent provider = agent();
        Agent consumer = funded(10_000);
        // without a price and without history: refused with no suggestion
        ApiClient.Response noPrice = api().post("/api/v1/market/services", provider.accessToken(), key(),
                service(capability, null, null));
        refused(noPrice, 422, "MARKET_PRICE_REQUIRED");
        assertThat(noPrice.json().path("errors").get(0).has("suggestedMedian")).isFalse();

        for (String price : List.of("100", "300", "200")) {
            String id = registered(provider, service(capability, price, null));
            String request = requested(consumer, id, Map.of()).path("id").asString();
            ok(complete(provider, request, "ipfs://r"));
            ok(score(consumer, request, 100, 100));
        }
        JsonNode found = ok(api().get("/api/v1/market/services?capability=" + capability, consumer.accessToken()));
        assertThat(found.path("items").size()).isEqualTo(3);
        assertThat(ok(api().get("/api/v1/market/services?capability=" + capability + "&limit=2",
                consumer.accessToken())).path("nextCursor").isNull()).isFalse();

        JsonNode suggestion = ok(api().get("/api/v1/market/price-suggestions?capability=" + capability + "&token="
                + token, consumer.accessToken()));
        assertThat(suggestion.path("median").asString()).isEqualTo("200");
        assertThat(suggestion.path("min").asString()).isEqualTo("100");
        assertThat(suggestion.path("max").asString()).isEqualTo("300");
        assertThat(suggestion.path("sampleSize").asInt()).isEqualTo(3);
        ApiClient.Response suggested = api().post("/api/v1/market/services", agent().accessToken(), key(),
                service(capability, null, null));
        refused(suggested, 422, "MARKET_PRICE_REQUIRED");
        JsonNode error = suggested.json().path("errors").get(0);
        assertThat(error.path("suggestedMedian").asString()).isEqualTo("200");
        assertThat(error.path("suggestedMin").asString()).isEqualTo("100");
        assertThat(error.path("suggestedMax").asString()).isEqualTo("300");

        String id = found.path("items").get(0).path("id").asString();
        Map<String, Object> update = service(capability, "450", null);
        update.put("description", "faster summaries");
        ApiClient.Response updated = put("/api/v1/market/services/" + id, provider, update);
        assertThat(ok(updated).path("price").asString()).isEqualTo("450");
        ApiClient.Response notMine = put("/api/v1/market/services/" + id, consumer, update);
        refused(notMine, 404, "NOT_FOUND");
        assertThat(requested(consumer, id, Map.of()).path("base").asString()).isEqualTo("450");
    }

    // ------------------------------------------------------------------ replays and concurrency

    @Test
    void a_replayed_request_is_answered_once_and_a_conflicting_one_is_422() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        String serviceId = registered(provider, service("summarize", "1000", null));
        String key = key();
        String path = "/api/v1/market/services/" + serviceId + "/requests";
        ApiClient.Response first = api().post(path, consumer.accessToken(), key, Map.of("input", "a"));
        ApiClient.Response again = api().post(path, consumer.accessToken(), key, Map.of("input", "a"));
        assertThat(first.status()).isEqualTo(201);
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(again.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        refused(api().post(path, consumer.accessToken(), key, Map.of("input", "b")), 422, "IDEMPOTENCY_KEY_REUSED");
        assertThat(available(consumer)).isEqualTo(big(10_000 - 1_500));

        String id = first.json().path("id").asString();
        String completeKey = key();
        ApiClient.Response completed = api().post("/api/v1/market/requests/" + id + "/complete", provider.accessToken(),
                completeKey, Map.of("resultRef", "ipfs://r"));
        ApiClient.Response replayed = api().post("/api/v1/market/requests/" + id + "/complete", provider.accessToken(),
                completeKey, Map.of("resultRef", "ipfs://r"));
        assertThat(completed.status()).isEqualTo(200);
        assertThat(replayed.status()).isEqualTo(200);
        assertThat(replayed.header("Idempotent-Replayed")).isEqualTo("true");
        String scoreKey = key();
        String scorePath = "/api/v1/market/requests/" + id + "/score";
        ok(api().post(scorePath, consumer.accessToken(), scoreKey, Map.of("quality", 80, "accuracy", 100)));
        ApiClient.Response scoredAgain = api().post(scorePath, consumer.accessToken(), scoreKey,
                Map.of("quality", 80, "accuracy", 100));
        assertThat(scoredAgain.status()).isEqualTo(200);
        assertThat(scoredAgain.header("Idempotent-Replayed")).isEqualTo("true");
        // 0.8 * 1.5 * 1.0 = 1.2 of 1000
        assertThat(available(provider)).isEqualTo(big(1_200).subtract(fee(1_200)));
        assertThat(available(consumer)).isEqualTo(big(10_000 - 1_200));
    }

    @Test
    void concurrent_completions_and_scorings_succeed_once_and_pay_once() throws Exception {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        String serviceId = registered(provider, service("summarize", "1000", null));
        String id = requested(consumer, serviceId, Map.of()).path("id").asString();
        int parallel = 6;
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Callable<ApiClient.Response>> completions = new ArrayList<>();
            for (int i = 0; i < parallel; i++) {
                String ref = "ipfs://result-" + i;
                completions.add(() -> complete(provider, id, ref));
            }
            assertThat(outcomes(pool.invokeAll(completions))).containsExactlyInAnyOrder(
                    "200", "409:MARKET_ALREADY_COMPLETED", "409:MARKET_ALREADY_COMPLETED", "409:MARKET_ALREADY_COMPLETED",
                    "409:MARKET_ALREADY_COMPLETED", "409:MARKET_ALREADY_COMPLETED");
            List<Callable<ApiClient.Response>> scorings = new ArrayList<>();
            for (int i = 0; i < parallel; i++) {
                scorings.add(() -> score(consumer, id, 60, 100));
            }
            assertThat(outcomes(pool.invokeAll(scorings))).containsExactlyInAnyOrder(
                    "200", "409:MARKET_ALREADY_SCORED", "409:MARKET_ALREADY_SCORED", "409:MARKET_ALREADY_SCORED",
                    "409:MARKET_ALREADY_SCORED", "409:MARKET_ALREADY_SCORED");
        } finally {
            pool.shutdownNow();
        }
        // 0.6 * 1.5 * 1.0 = 0.9 of 1000, paid once
        assertThat(available(provider)).isEqualTo(big(900).subtract(fee(900)));
        assertThat(available(consumer)).isEqualTo(big(10_000 - 900));
        JsonNode request = ok(api().get("/api/v1/market/requests/" + id, consumer.accessToken()));
        assertThat(escrowAccount(request.path("escrowId").asString())).isZero();
        assertStats(serviceId, consumer, Map.of("scoredRequests", 1L));
    }

    private static List<String> outcomes(List<Future<ApiClient.Response>> futures) throws Exception {
        List<String> out = new ArrayList<>();
        for (Future<ApiClient.Response> f : futures) {
            ApiClient.Response r = f.get();
            out.add(r.status() == 200 ? "200" : r.status() + ":" + r.code());
        }
        return out;
    }

    @Test
    void a_requests_evaluator_scores_it_instead_of_the_consumer_and_sees_it() {
        Agent provider = agent();
        Agent consumer = funded(10_000);
        Agent evaluator = agent();
        String serviceId = registered(provider, service("summarize", "1000", null));
        refused(request(consumer, serviceId, Map.of("evaluator", provider.address())), 422,
                "MARKET_EVALUATOR_IS_PARTY");
        refused(request(consumer, serviceId, Map.of("evaluator", "0x12")), 400, "VALIDATION_FAILED");
        JsonNode request = requested(consumer, serviceId, Map.of("evaluator", evaluator.address()));
        String id = request.path("id").asString();
        assertThat(request.path("evaluator").asString()).isEqualTo(evaluator.address());
        JsonNode seen = ok(api().get("/api/v1/market/requests/" + id, evaluator.accessToken()));
        assertThat(seen.path("myRoles").get(0).asString()).isEqualTo("EVALUATOR");
        JsonNode listed = ok(api().get("/api/v1/market/requests?role=evaluator", evaluator.accessToken()));
        assertThat(listed.path("items").get(0).path("id").asString()).isEqualTo(id);
        refused(api().get("/api/v1/market/requests/" + id, agent().accessToken()), 404, "NOT_FOUND");

        ok(complete(provider, id, "ipfs://r"));
        refused(score(consumer, id, 100, 100), 403, "MARKET_EVALUATOR_ONLY");
        refused(score(provider, id, 200, 150), 403, "MARKET_EVALUATOR_ONLY");
        // the evaluator's quality 80: 0.8 * 1.5 (fast) * 1.0 = 1.2x of 1,000; 300 of the 1,500 back to the consumer
        JsonNode scored = ok(score(evaluator, id, 80, 100));
        assertThat(scored.path("payout").asString()).isEqualTo("1200");
        assertThat(available(provider)).isEqualTo(big(1_200).subtract(fee(1_200)));
        assertThat(available(consumer)).isEqualTo(big(10_000 - 1_200));
        assertThat(available(evaluator)).isZero();
        JsonNode history = ok(api().get("/api/v1/market/agents/" + provider.address() + "/reputation",
                provider.accessToken())).path("history");
        assertThat(history.get(0).path("kind").asString()).isEqualTo("REQUEST");
        assertThat(history.get(0).path("subjectId").asString()).isEqualTo(id);
        assertThat(history.get(0).path("consumer").asString()).isEqualTo(evaluator.address());
        assertThat(history.get(0).path("quality").asInt()).isEqualTo(80);
    }

    @Test
    void the_openapi_document_lists_the_market_codes() {
        String openApi = api().get("/v3/api-docs", null).raw().body();
        JsonNode doc = ApiClient.JSON.readTree(openApi);
        for (String path : List.of("/api/v1/market/services", "/api/v1/market/services/{id}/requests",
                "/api/v1/market/requests/{id}/complete", "/api/v1/market/requests/{id}/score",
                "/api/v1/market/tasks", "/api/v1/market/tasks/{id}/failure", "/api/v1/market/tasks/{id}/dispute",
                "/api/v1/market/tasks/{id}/decision")) {
            assertThat(doc.path("paths").has(path)).as(path).isTrue();
        }
        JsonNode codes = doc.path("x-error-codes");
        for (String code : List.of("MARKET_ALREADY_SCORED", "MARKET_PROVIDER_ONLY", "MARKET_PRICE_REQUIRED",
                "INSUFFICIENT_FUNDS", "NOT_YET_VISIBLE", "MARKET_EVALUATOR_ONLY", "MARKET_TASK_FAILED",
                "MARKET_DISPUTE_WINDOW_CLOSED", "MARKET_ARBITER_ONLY", "MARKET_SPLIT_ABOVE_ESCROW")) {
            assertThat(codes.path(code).asString()).as(code).isNotBlank();
        }
    }
}
