package dev.agentescrow.backend.market;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.backend.testing.Funder;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.transaction.TransactionDefinition;
import tools.jackson.databind.JsonNode;

/**
 * Tasks and sealed-bid auctions over real HTTP: three agents bid, the window closes, the winner
 * is allocated at the Vickrey price with the poster's escrow funded in the same step (balances
 * exact), completion and scoring pay by performance within the cap and refund the rest; every bid
 * refusal with its code; insufficient funds and no bids leave the task unallocated with a reason;
 * sealed bids as other principals see them; replays; concurrent triggers allocating once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MarketTasksIT extends BackendITSupport {
    private static final BigInteger FEE_BPS = BigInteger.valueOf(100);

    @Autowired
    Batcher batcher;

    @Autowired
    MarketStore marketStore;

    @Autowired
    MarketTaskStore taskStore;

    @Autowired
    dev.agentescrow.backend.escrow.Escrows escrows;

    @Autowired
    javax.sql.DataSource dataSource;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    org.springframework.transaction.PlatformTransactionManager transactionManager;

    private String token;
    private FreshAgents.FreshAgent funder;
    private Funder funding;

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        funding = Funder.deposit(api(), CHAIN, balances(), 10_000_000);
        funder = funding.agent();
    }

    // ------------------------------------------------------------------ helpers

    private FreshAgents.FreshAgent funded(long amount) {
        return funding.fresh(amount);
    }

    /** A fresh agent listing a service with {@code capabilities}. */
    private FreshAgents.FreshAgent provider(String... capabilities) {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        ApiClient.Response listed = api().post("/api/v1/market/services", agent.accessToken(), key(), Map.of(
                "capabilities", List.of(capabilities), "description", "work", "token", token, "price", "100",
                "maxDeliverySeconds", 3600));
        assertThat(listed.status()).as(listed.toString()).isEqualTo(201);
        return agent;
    }

    private BigInteger available(FreshAgents.FreshAgent agent) {
        return balances().available(agent.accessToken());
    }

    private LedgerBalances balances() {
        return new LedgerBalances(api(), batcher.reads(), token);
    }

    private static BigInteger big(long value) {
        return BigInteger.valueOf(value);
    }

    private JsonNode posted(FreshAgents.FreshAgent poster, long budget, long biddingSeconds) {
        return posted(poster, budget, biddingSeconds, Map.of());
    }

    /** A posted task of capability "summarize", 3,600 s for the work, with {@code extra} fields of the posting. */
    private JsonNode posted(FreshAgents.FreshAgent poster, long budget, long biddingSeconds, Map<String, Object> extra) {
        Map<String, Object> body = new HashMap<>(Map.of("capabilities", List.of("summarize"), "token", token,
                "budget", Long.toString(budget), "biddingSeconds", biddingSeconds, "workSeconds", 3600));
        body.putAll(extra);
        ApiClient.Response response = api().post("/api/v1/market/tasks", poster.accessToken(), key(), body);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("state").asString()).isEqualTo("OPEN");
        return response.json();
    }

    private ApiClient.Response bid(FreshAgents.FreshAgent bidder, String taskId, long ask) {
        return api().post("/api/v1/market/tasks/" + taskId + "/bids", bidder.accessToken(), key(),
                Map.of("ask", Long.toString(ask)));
    }

    private void bids(FreshAgents.FreshAgent bidder, String taskId, long ask) {
        ApiClient.Response response = bid(bidder, taskId, ask);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("ask").asString()).isEqualTo(Long.toString(ask));
    }

    private JsonNode task(FreshAgents.FreshAgent who, String id) {
        ApiClient.Response response = api().get("/api/v1/market/tasks/" + id, who.accessToken());
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    /** The task once its window has closed and it was allocated or closed (polled with a deadline). */
    private JsonNode closed(FreshAgents.FreshAgent who, String id) {
        JsonNode[] last = new JsonNode[1];
        awaitUntil("task " + id + " closed", () -> !"OPEN".equals((last[0] = task(who, id)).path("state").asString()));
        return last[0];
    }

    private static void refused(ApiClient.Response response, int status, String code) {
        assertThat(response.status()).as(response.toString()).isEqualTo(status);
        assertThat(response.code()).as(response.toString()).isEqualTo(code);
        assertThat(response.header("Content-Type")).startsWith("application/problem+json");
    }

    private static JsonNode bidOf(JsonNode task, FreshAgents.FreshAgent bidder) {
        for (JsonNode bid : task.path("bids")) {
            if (bid.path("bidder").asString().equalsIgnoreCase(bidder.address())) {
                return bid;
            }
        }
        throw new AssertionError("no bid of " + bidder.address() + " in " + task);
    }

    // ------------------------------------------------------------------ the flow

    @Test
    void three_bids_allocate_at_the_vickrey_price_fund_the_escrow_and_performance_pay_refunds_the_rest() {
        FreshAgents.FreshAgent a = provider("summarize", "text");
        FreshAgents.FreshAgent b = provider("summarize");
        FreshAgents.FreshAgent c = provider("summarize", "translate");
        FreshAgents.FreshAgent poster = funded(100_000);
        BigInteger feesBefore = balances().fees();

        // budget 15,000 at the default 1.5x: maximum base price floor(15,000 * 10,000 / 15,000) = 10,000
        JsonNode posted = posted(poster, 15_000, 10);
        String id = posted.path("id").asString();
        assertThat(posted.path("maxMultiplierBps").asInt()).isEqualTo(15_000);
        assertThat(posted.path("maxBasePrice").asString()).isEqualTo("10000");
        bids(a, id, 6_000);
        bids(b, id, 4_000);
        bids(c, id, 5_000);

        // sealed while bidding is open: the poster sees no amount, a bidder only its own
        JsonNode seenByPoster = task(poster, id);
        if ("OPEN".equals(seenByPoster.path("state").asString())
                && Instant.now().isBefore(Instant.parse(posted.path("biddingClosesAt").asString()).minusSeconds(1))) {
            assertThat(seenByPoster.path("bidCount").asInt()).isEqualTo(3);
            for (JsonNode bid : seenByPoster.path("bids")) {
                assertThat(bid.path("sealed").asBoolean()).isTrue();
                assertThat(bid.has("ask")).isFalse();
            }
            JsonNode seenByB = task(b, id);
            assertThat(bidOf(seenByB, b).path("ask").asString()).isEqualTo("4000");
            assertThat(bidOf(seenByB, a).has("ask")).isFalse();
            assertThat(bidOf(seenByB, c).path("sealed").asBoolean()).isTrue();
        }

        // the window closes: b (4,000) wins at the runner-up's 5,000; escrow 5,000 * 1.5 = 7,500
        JsonNode allocated = closed(poster, id);
        assertThat(allocated.path("state").asString()).as(allocated.toString()).isEqualTo("ALLOCATED");
        assertThat(allocated.path("winner").asString()).isEqualTo(b.address());
        assertThat(allocated.path("clearingPrice").asString()).isEqualTo("5000");
        assertThat(allocated.path("reserveApplied").asBoolean()).isFalse();
        assertThat(allocated.path("escrowed").asString()).isEqualTo("7500");
        assertThat(bidOf(allocated, a).path("ask").asString()).isEqualTo("6000");
        String escrowId = allocated.path("escrowId").asString();
        assertThat(available(poster)).isEqualTo(big(100_000 - 7_500));
        assertThat(balances().escrowAccount(escrowId)).isEqualTo(big(7_500));
        JsonNode escrow = api().get("/api/v1/escrows/" + escrowId, poster.accessToken()).json();
        assertThat(escrow.path("state").asString()).isEqualTo("FUNDED");
        assertThat(escrow.path("arbiter").asString()).isEqualToIgnoringCase(MARKET_ARBITER);
        assertThat(escrow.path("payees").get(0).path("address").asString()).isEqualTo(b.address());

        // only the winner completes, only the poster scores, once each
        String complete = "/api/v1/market/tasks/" + id + "/complete";
        String score = "/api/v1/market/tasks/" + id + "/score";
        refused(api().post(score, poster.accessToken(), key(), Map.of("quality", 100, "accuracy", 80)), 409,
                "MARKET_NOT_COMPLETED");
        refused(api().post(complete, a.accessToken(), key(), Map.of("resultRef", "ipfs://x")), 403,
                "MARKET_WINNER_ONLY");
        ApiClient.Response done = api().post(complete, b.accessToken(), key(), Map.of("resultRef", "ipfs://result"));
        assertThat(done.status()).as(done.toString()).isEqualTo(200);
        assertThat(done.json().path("state").asString()).isEqualTo("COMPLETED");
        refused(api().post(complete, b.accessToken(), key(), Map.of("resultRef", "ipfs://again")), 409,
                "MARKET_ALREADY_COMPLETED");
        refused(api().post(score, b.accessToken(), key(), Map.of("quality", 200, "accuracy", 150)), 403,
                "MARKET_POSTER_ONLY");

        // quality 100 (1.0x) * fast (1.5x) * accuracy 80 (0.8x) = 1.2x of 5,000 = 6,000 <= 7,500; 1,500 refunded
        ApiClient.Response scored = api().post(score, poster.accessToken(), key(), Map.of("quality", 100,
                "accuracy", 80));
        assertThat(scored.status()).as(scored.toString()).isEqualTo(200);
        JsonNode result = scored.json();
        assertThat(result.path("state").asString()).isEqualTo("SCORED");
        assertThat(result.path("payout").asString()).isEqualTo("6000");
        assertThat(result.path("refund").asString()).isEqualTo("1500");
        assertThat(result.path("breakdown").path("speedBps").asInt()).isEqualTo(15_000);
        assertThat(result.path("breakdown").path("arithmetic").asString()).contains("= 6000");
        refused(api().post(score, poster.accessToken(), key(), Map.of("quality", 100, "accuracy", 80)), 409,
                "MARKET_ALREADY_SCORED");

        BigInteger fee = big(6_000).multiply(FEE_BPS).divide(big(10_000));
        assertThat(available(b)).isEqualTo(big(6_000).subtract(fee));
        assertThat(available(poster)).isEqualTo(big(100_000 - 7_500 + 1_500));
        assertThat(balances().escrowAccount(escrowId)).isZero();
        assertThat(balances().fees().subtract(feesBefore)).isEqualTo(fee);
        assertThat(available(a)).isZero();
        assertThat(available(c)).isZero();
    }

    // ------------------------------------------------------------------ refusals

    @Test
    void every_bid_refusal_has_its_code_and_a_replayed_bid_is_answered_once() {
        FreshAgents.FreshAgent poster = funded(0);
        FreshAgents.FreshAgent bidder = provider("summarize");
        String id = posted(poster, 15_000, 600).path("id").asString();
        String path = "/api/v1/market/tasks/" + id + "/bids";

        refused(bid(bidder, id, 10_001), 422, "MARKET_BID_ABOVE_MAX");
        refused(bid(FreshAgents.signIn(api()), id, 100), 422, "MARKET_CAPABILITY_MISSING");
        refused(bid(provider("translate"), id, 100), 422, "MARKET_CAPABILITY_MISSING");
        refused(bid(poster, id, 100), 422, "MARKET_SELF_BID");
        refused(api().post(path, bidder.accessToken(), key(), Map.of("ask", "0")), 400, "VALIDATION_FAILED");

        String key = key();
        ApiClient.Response first = api().post(path, bidder.accessToken(), key, Map.of("ask", "10000"));
        ApiClient.Response again = api().post(path, bidder.accessToken(), key, Map.of("ask", "10000"));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        refused(api().post(path, bidder.accessToken(), key, Map.of("ask", "9000")), 422, "IDEMPOTENCY_KEY_REUSED");
        refused(bid(bidder, id, 9_000), 409, "MARKET_DUPLICATE_BID");
        JsonNode seen = task(poster, id);
        assertThat(seen.path("bidCount").asInt()).isEqualTo(1);
        assertThat(bidOf(seen, bidder).has("ask")).isFalse();
        assertThat(bidOf(task(bidder, id), bidder).path("ask").asString()).isEqualTo("10000");

        Map<String, Object> tiny = Map.of("capabilities", List.of("summarize"), "token", token, "budget", "1",
                "biddingSeconds", 60, "workSeconds", 60);
        refused(api().post("/api/v1/market/tasks", poster.accessToken(), key(), tiny), 422, "MARKET_BUDGET_TOO_SMALL");
        Map<String, Object> tooHigh = new HashMap<>(tiny);
        tooHigh.put("budget", "1000");
        tooHigh.put("maxMultiplierBps", 45_001);
        refused(api().post("/api/v1/market/tasks", poster.accessToken(), key(), tooHigh), 400, "VALIDATION_FAILED");
    }

    @Test
    void a_task_without_bids_closes_unallocated_and_a_late_bid_is_refused() {
        FreshAgents.FreshAgent poster = funded(0);
        String id = posted(poster, 15_000, 1).path("id").asString();
        JsonNode closed = closed(poster, id);
        assertThat(closed.path("state").asString()).isEqualTo("UNALLOCATED");
        assertThat(closed.path("reason").asString()).isEqualTo("NO_BIDS");
        assertThat(closed.has("escrowId")).isFalse();
        refused(bid(provider("summarize"), id, 100), 409, "MARKET_BIDDING_CLOSED");
    }

    @Test
    void insufficient_funds_allocate_nothing_and_the_task_says_why() {
        FreshAgents.FreshAgent poster = funded(1_000);
        FreshAgents.FreshAgent bidder = provider("summarize");
        String id = posted(poster, 15_000, 5).path("id").asString();
        bids(bidder, id, 4_000);
        // a single bid is paid the reserve (10,000): the escrow of 15,000 is more than the poster has
        JsonNode closed = closed(poster, id);
        assertThat(closed.path("state").asString()).as(closed.toString()).isEqualTo("UNALLOCATED");
        assertThat(closed.path("reason").asString()).isEqualTo("INSUFFICIENT_FUNDS");
        assertThat(closed.has("escrowId")).isFalse();
        assertThat(closed.has("winner")).isFalse();
        assertThat(available(poster)).isEqualTo(big(1_000));
        refused(api().post("/api/v1/market/tasks/" + id + "/complete", bidder.accessToken(), key(),
                Map.of("resultRef", "ipfs://x")), 409, "MARKET_NOT_ALLOCATED");
    }

    @Test
    void every_endpoint_answers_401_without_a_token_and_an_unknown_task_is_404() {
        String task = "/api/v1/market/tasks/task_" + "0".repeat(32);
        refused(api().post("/api/v1/market/tasks", null, key(), "{}"), 401, "UNAUTHENTICATED");
        refused(api().get(task, null), 401, "UNAUTHENTICATED");
        refused(api().post(task + "/bids", null, key(), "{}"), 401, "UNAUTHENTICATED");
        refused(api().post(task + "/complete", null, key(), "{}"), 401, "UNAUTHENTICATED");
        refused(api().post(task + "/score", null, key(), "{}"), 401, "UNAUTHENTICATED");
        FreshAgents.FreshAgent someone = FreshAgents.signIn(api());
        refused(api().get(task, someone.accessToken()), 404, "NOT_FOUND");
        refused(api().get("/api/v1/market/tasks/nope", someone.accessToken()), 404, "NOT_FOUND");
    }

    // ------------------------------------------------------------------ concurrency

    @Test
    void concurrent_triggers_after_the_close_allocate_once_and_concurrent_scorings_pay_once() throws Exception {
        FreshAgents.FreshAgent poster = funded(50_000);
        FreshAgents.FreshAgent x = provider("summarize");
        FreshAgents.FreshAgent y = provider("summarize");
        JsonNode posted = posted(poster, 15_000, 5);
        String id = posted.path("id").asString();
        bids(x, id, 3_000);
        bids(y, id, 7_000);
        Instant closes = Instant.parse(posted.path("biddingClosesAt").asString());
        awaitUntil("the bidding window closed", () -> !Instant.now().isBefore(closes));

        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<ApiClient.Response>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                FreshAgents.FreshAgent who = i % 3 == 0 ? poster : i % 3 == 1 ? x : y;
                calls.add(pool.submit(() -> api().get("/api/v1/market/tasks/" + id, who.accessToken())));
            }
            List<String> escrows = new ArrayList<>();
            for (Future<ApiClient.Response> call : calls) {
                ApiClient.Response response = call.get();
                assertThat(response.status()).as(response.toString()).isEqualTo(200);
                assertThat(response.json().path("state").asString()).isEqualTo("ALLOCATED");
                escrows.add(response.json().path("escrowId").asString());
            }
            assertThat(escrows).containsOnly(escrows.getFirst());
            // x wins at y's 7,000: escrow 10,500, debited once
            assertThat(available(poster)).isEqualTo(big(50_000 - 10_500));
            assertThat(balances().escrowAccount(escrows.getFirst())).isEqualTo(big(10_500));
            assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.audit_records WHERE object_id = ?"
                    + " AND action = 'MARKET_TASK_ALLOCATED'", Long.class, id)).isEqualTo(1L);

            // concurrent scorings pay once: 1.0 * 1.5 (fast) * 0.8 = 1.2x of 7,000 = 8,400; 2,100 refunded
            ApiClient.Response done = api().post("/api/v1/market/tasks/" + id + "/complete", x.accessToken(), key(),
                    Map.of("resultRef", "ipfs://r"));
            assertThat(done.status()).as(done.toString()).isEqualTo(200);
            List<Future<ApiClient.Response>> scorings = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                scorings.add(pool.submit(() -> api().post("/api/v1/market/tasks/" + id + "/score",
                        poster.accessToken(), key(), Map.of("quality", 100, "accuracy", 80))));
            }
            int paid = 0;
            for (Future<ApiClient.Response> scoring : scorings) {
                ApiClient.Response response = scoring.get();
                if (response.status() == 200) {
                    paid++;
                    assertThat(response.json().path("payout").asString()).isEqualTo("8400");
                } else {
                    refused(response, 409, "MARKET_ALREADY_SCORED");
                }
            }
            assertThat(paid).isEqualTo(1);
            assertThat(available(poster)).isEqualTo(big(50_000 - 10_500 + 2_100));
            assertThat(available(x)).isEqualTo(big(8_400 - 84));
            assertThat(balances().escrowAccount(escrows.getFirst())).isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ failures, disputes, the arbiter

    /** A task of {@code poster} with one bid of {@code winner}, allocated at the reserve: 10,000, escrow 15,000. */
    private JsonNode allocatedTo(FreshAgents.FreshAgent poster, FreshAgents.FreshAgent winner, Map<String, Object> extra) {
        JsonNode posted = posted(poster, 15_000, 2, extra);
        String id = posted.path("id").asString();
        bids(winner, id, 4_000);
        JsonNode allocated = closed(poster, id);
        assertThat(allocated.path("state").asString()).as(allocated.toString()).isEqualTo("ALLOCATED");
        assertThat(allocated.path("escrowed").asString()).isEqualTo("15000");
        return allocated;
    }

    private ApiClient.Response act(FreshAgents.FreshAgent who, String id, String action, Map<String, Object> body) {
        return api().post("/api/v1/market/tasks/" + id + "/" + action, who.accessToken(), key(), body);
    }

    private JsonNode reputation(FreshAgents.FreshAgent agent) {
        ApiClient.Response response = api().get("/api/v1/market/agents/" + agent.address() + "/reputation",
                agent.accessToken());
        assertThat(response.status()).as(response.toString()).isEqualTo(200);
        return response.json();
    }

    /** The task once it has left {@code state} (polled with a deadline). */
    private JsonNode leaves(FreshAgents.FreshAgent who, String id, String state) {
        JsonNode[] last = new JsonNode[1];
        awaitUntil("task " + id + " left " + state, () -> !state.equals((last[0] = task(who, id)).path("state")
                .asString()));
        return last[0];
    }

    @Test
    void a_reported_failure_undisputed_in_its_window_refunds_the_poster_and_drops_the_winners_reputation() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        FreshAgents.FreshAgent other = provider("summarize");
        JsonNode allocated = allocatedTo(poster, winner, Map.of("disputeWindowSeconds", 2));
        String id = allocated.path("id").asString();
        String escrowId = allocated.path("escrowId").asString();
        assertThat(available(poster)).isEqualTo(big(5_000));

        refused(act(winner, id, "failure", Map.of("reason", "mine")), 403, "MARKET_POSTER_ONLY");
        refused(act(other, id, "failure", Map.of("reason", "theirs")), 403, "MARKET_POSTER_ONLY");
        refused(act(poster, id, "failure", Map.of()), 400, "VALIDATION_FAILED");
        refused(act(winner, id, "dispute", Map.of("reason", "nothing reported")), 409, "MARKET_NO_FAILURE_REPORTED");
        ApiClient.Response reported = act(poster, id, "failure", Map.of("reason", "the summary is empty"));
        assertThat(reported.status()).as(reported.toString()).isEqualTo(200);
        assertThat(reported.json().path("state").asString()).isIn("FAILURE_REPORTED", "FAILED");
        assertThat(reported.json().path("failure").path("reason").asString()).isEqualTo("REPORTED");
        assertThat(reported.json().path("failure").path("detail").asString()).isEqualTo("the summary is empty");
        refused(act(poster, id, "failure", Map.of("reason", "again")), 409, "MARKET_TASK_FAILED");
        refused(act(winner, id, "complete", Map.of("resultRef", "ipfs://late")), 409, "MARKET_TASK_FAILED");
        refused(act(poster, id, "score", Map.of("quality", 100, "accuracy", 100)), 409, "MARKET_TASK_FAILED");

        // undisputed: after the window the poster is refunded everything, the winner's outcome is a failure
        JsonNode failed = leaves(poster, id, "FAILURE_REPORTED");
        assertThat(failed.path("state").asString()).as(failed.toString()).isEqualTo("FAILED");
        assertThat(failed.path("payout").asString()).isEqualTo("0");
        assertThat(failed.path("refund").asString()).isEqualTo("15000");
        assertThat(available(poster)).isEqualTo(big(20_000));
        assertThat(available(winner)).isZero();
        assertThat(balances().escrowAccount(escrowId)).isZero();
        refused(act(winner, id, "dispute", Map.of("reason", "too late")), 422, "MARKET_DISPUTE_WINDOW_CLOSED");
        JsonNode history = reputation(winner).path("history");
        assertThat(history.get(0).path("kind").asString()).isEqualTo("TASK");
        assertThat(history.get(0).path("subjectId").asString()).isEqualTo(id);
        assertThat(history.get(0).path("result").asString()).isEqualTo("FAILED");
        assertThat(history.get(0).path("quality").asInt()).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.audit_records WHERE object_id = ?"
                + " AND action = 'MARKET_TASK_FAILED'", Long.class, id)).isEqualTo(1L);
    }

    @Test
    void a_disputed_failure_is_decided_by_the_platforms_arbiter_once() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        FreshAgents.FreshAgent arbiter = FreshAgents.signIn(api(), MARKET_ARBITER_KEY);
        JsonNode allocated = allocatedTo(poster, winner, Map.of("disputeWindowSeconds", 3_600));
        String id = allocated.path("id").asString();
        String escrowId = allocated.path("escrowId").asString();
        assertThat(act(winner, id, "complete", Map.of("resultRef", "ipfs://r")).status()).isEqualTo(200);
        refused(act(arbiter, id, "decision", Map.of("toWinner", "1")), 409, "MARKET_NOT_DISPUTED");

        ApiClient.Response reported = act(poster, id, "failure", Map.of("reason", "wrong language"));
        assertThat(reported.json().path("state").asString()).isEqualTo("FAILURE_REPORTED");
        assertThat(api().get("/api/v1/escrows/" + escrowId, poster.accessToken()).json().path("state").asString())
                .isEqualTo("DISPUTED");
        refused(act(poster, id, "dispute", Map.of("reason", "me too")), 403, "MARKET_WINNER_ONLY");
        ApiClient.Response disputed = act(winner, id, "dispute", Map.of("reason", "it is in English as asked"));
        assertThat(disputed.status()).as(disputed.toString()).isEqualTo(200);
        assertThat(disputed.json().path("state").asString()).isEqualTo("DISPUTED");
        assertThat(disputed.json().path("failure").path("disputeDetail").asString())
                .isEqualTo("it is in English as asked");
        refused(act(winner, id, "dispute", Map.of("reason", "again")), 409, "MARKET_ALREADY_DISPUTED");

        refused(act(poster, id, "decision", Map.of("toWinner", "1")), 403, "MARKET_ARBITER_ONLY");
        refused(act(winner, id, "decision", Map.of("toWinner", "15000")), 403, "MARKET_ARBITER_ONLY");
        refused(act(arbiter, id, "decision", Map.of("toWinner", "15001")), 422, "MARKET_SPLIT_ABOVE_ESCROW");
        refused(act(arbiter, id, "decision", Map.of("toWinner", "-1")), 400, "VALIDATION_FAILED");

        // concurrent decisions: one pays 6,000 to the winner (fee 60), 9,000 back to the poster
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<ApiClient.Response>> calls = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                calls.add(pool.submit(() -> act(arbiter, id, "decision", Map.of("toWinner", "6000"))));
            }
            int decided = 0;
            for (Future<ApiClient.Response> call : calls) {
                ApiClient.Response response = call.get();
                if (response.status() == 200) {
                    decided++;
                    assertThat(response.json().path("state").asString()).isEqualTo("RESOLVED");
                    assertThat(response.json().path("payout").asString()).isEqualTo("6000");
                    assertThat(response.json().path("refund").asString()).isEqualTo("9000");
                } else {
                    refused(response, 409, "MARKET_ALREADY_DECIDED");
                }
            }
            assertThat(decided).isEqualTo(1);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            pool.shutdownNow();
        }
        assertThat(available(winner)).isEqualTo(big(6_000 - 60));
        assertThat(available(poster)).isEqualTo(big(5_000 + 9_000));
        assertThat(balances().escrowAccount(escrowId)).isZero();
        JsonNode outcome = reputation(winner).path("history").get(0);
        assertThat(outcome.path("result").asString()).isEqualTo("RESOLVED");
        assertThat(outcome.path("quality").asInt()).isEqualTo(60); // 6,000 of the 10,000 clearing price
    }

    @Test
    void a_missed_deadline_fails_the_task_at_once_and_refunds_the_poster() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        JsonNode allocated = allocatedTo(poster, winner, Map.of("workSeconds", 1));
        String id = allocated.path("id").asString();
        JsonNode failed = leaves(poster, id, "ALLOCATED");
        assertThat(failed.path("state").asString()).as(failed.toString()).isEqualTo("FAILED");
        assertThat(failed.path("failure").path("reason").asString()).isEqualTo("DEADLINE_MISSED");
        assertThat(failed.path("failure").has("disputeWindowEnds")).isFalse();
        assertThat(available(poster)).isEqualTo(big(20_000));
        refused(act(winner, id, "complete", Map.of("resultRef", "ipfs://late")), 422, "MARKET_TASK_EXPIRED");
        refused(act(winner, id, "dispute", Map.of("reason", "no")), 409, "MARKET_NO_FAILURE_REPORTED");
        refused(act(poster, id, "failure", Map.of("reason", "late")), 409, "MARKET_TASK_FAILED");
        JsonNode outcome = reputation(winner).path("history").get(0);
        assertThat(outcome.path("result").asString()).isEqualTo("DEADLINE_MISSED");
        assertThat(outcome.path("late").asBoolean()).isTrue();
    }

    // ------------------------------------------------------------------ the escrow ending on its own terms

    /**
     * Moves the escrow's clock: its deadline {@code deadlineAgoSeconds} in the past with
     * {@code graceSeconds} of grace (the service reads these columns; time is not otherwise mocked).
     */
    private void escrowDeadlinePassed(String escrowId, long deadlineAgoSeconds, long graceSeconds) {
        assertThat(jdbc.update("UPDATE backend.escrows SET deadline = now() - ? * INTERVAL '1 second',"
                + " grace_seconds = ?, due_at = now() - ? * INTERVAL '1 second' + ? * INTERVAL '1 second'"
                + " WHERE id = ? AND state = 'FUNDED'", deadlineAgoSeconds, graceSeconds, deadlineAgoSeconds,
                graceSeconds, escrowId)).isEqualTo(1);
    }

    private long count(String sql, Object... args) {
        return jdbc.queryForObject(sql, Long.class, args);
    }

    private String escrowState(FreshAgents.FreshAgent who, String escrowId) {
        return api().get("/api/v1/escrows/" + escrowId, who.accessToken()).json().path("state").asString();
    }

    private boolean hasOutcome(FreshAgents.FreshAgent agent, String subjectId) {
        for (JsonNode outcome : reputation(agent).path("history")) {
            if (outcome.path("subjectId").asString().equals(subjectId)) {
                return true;
            }
        }
        return false;
    }

    /** A task allocated to {@code winner} (escrow 15,000) whose winner delivered {@code ipfs://done}; its id. */
    private String delivered(FreshAgents.FreshAgent poster, FreshAgents.FreshAgent winner) {
        String id = allocatedTo(poster, winner, Map.of()).path("id").asString();
        assertThat(act(winner, id, "complete", Map.of("resultRef", "ipfs://done")).status()).isEqualTo(200);
        return id;
    }

    /** The delivered task CLOSED by its escrow's refund: nothing paid, the poster's 20,000 whole again. */
    private void closedExpired(JsonNode closed, FreshAgents.FreshAgent poster) {
        assertThat(closed.path("state").asString()).as(closed.toString()).isEqualTo("CLOSED");
        assertThat(closed.path("closure").path("how").asString()).isEqualTo("EXPIRED");
        assertThat(closed.path("payout").asString()).isEqualTo("0");
        assertThat(closed.path("refund").asString()).isEqualTo("15000");
        assertThat(closed.path("resultRef").asString()).isEqualTo("ipfs://done");
        assertThat(available(poster)).isEqualTo(big(20_000));
    }

    @Test
    void a_completed_task_never_scored_closes_expired_when_its_escrows_grace_ends_with_the_poster_refunded() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        String id = delivered(poster, winner);
        String escrowId = task(poster, id).path("escrowId").asString();

        // the poster never scores: the late window and the grace period pass
        escrowDeadlinePassed(escrowId, 3, 1);
        JsonNode closed = leaves(poster, id, "COMPLETED");
        closedExpired(closed, poster);
        assertThat(closed.path("closure").has("at")).isTrue();
        assertThat(escrowState(poster, escrowId)).isEqualTo("EXPIRED");
        assertThat(available(winner)).isZero();
        assertThat(balances().escrowAccount(escrowId)).isZero();
        // an unscored completion is nobody's word on the work: no outcome, the winner's reputation untouched
        assertThat(hasOutcome(winner, id)).isFalse();
        assertThat(count("SELECT count(*) FROM backend.market_outcomes WHERE subject_id = ?", id)).isZero();
        assertThat(count("SELECT count(*) FROM backend.audit_records WHERE object_id = ? AND action = 'MARKET_TASK_CLOSED'",
                id)).isEqualTo(1L);
        assertThat(count("SELECT count(*) FROM backend.events WHERE object_id = ? AND type = 'market.task_closed'"
                + " AND data LIKE '%\"closure\":\"EXPIRED\"%'", id)).isEqualTo(1L);
        // nothing more happens to it, whatever is tried; reading again changes nothing
        refused(act(poster, id, "score", Map.of("quality", 100, "accuracy", 100)), 409, "MARKET_ESCROW_CLOSED");
        refused(act(poster, id, "failure", Map.of("reason", "late")), 409, "MARKET_ESCROW_CLOSED");
        refused(act(winner, id, "dispute", Map.of("reason", "pay me")), 409, "MARKET_ESCROW_CLOSED");
        assertThat(task(poster, id).path("closure").path("at").asString())
                .isEqualTo(closed.path("closure").path("at").asString());
        awaitUntil("the CLOSED gauge", () -> api().get("/actuator/prometheus", null).raw().body().lines()
                .anyMatch(l -> l.startsWith("agentescrow_market_tasks{") && l.contains("state=\"CLOSED\"")
                        && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 1));
    }

    @Test
    void a_task_whose_escrow_was_refunded_before_the_task_moved_takes_its_final_state_from_the_escrow() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        String id = delivered(poster, winner);
        String escrowId = task(poster, id).path("escrowId").asString();

        // past the deadline, within the grace period: the payer takes the escrow back through the escrow API,
        // so the escrow ends while the task's row still says COMPLETED (as after a crash between the two)
        escrowDeadlinePassed(escrowId, 1, 3_600);
        ApiClient.Response refunded = api().post("/api/v1/escrows/" + escrowId + "/refund", poster.accessToken(), key(),
                "{}");
        assertThat(refunded.status()).as(refunded.toString()).isEqualTo(200);
        JsonNode closed = leaves(poster, id, "COMPLETED");
        closedExpired(closed, poster);
        assertThat(hasOutcome(winner, id)).isFalse();
        assertThat(count("SELECT count(*) FROM backend.audit_records WHERE object_id = ? AND action = 'MARKET_TASK_CLOSED'",
                id)).isEqualTo(1L);
    }

    @Test
    void a_dispute_the_arbiter_never_decides_closes_with_the_escrows_fallback_and_counts_no_outcome() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        FreshAgents.FreshAgent arbiter = FreshAgents.signIn(api(), MARKET_ARBITER_KEY);
        JsonNode allocated = allocatedTo(poster, winner, Map.of("disputeWindowSeconds", 3_600));
        String id = allocated.path("id").asString();
        String escrowId = allocated.path("escrowId").asString();
        assertThat(act(winner, id, "complete", Map.of("resultRef", "ipfs://r")).status()).isEqualTo(200);
        assertThat(act(poster, id, "failure", Map.of("reason", "wrong")).status()).isEqualTo(200);
        assertThat(act(winner, id, "dispute", Map.of("reason", "right")).json().path("state").asString())
                .isEqualTo("DISPUTED");

        // the arbitration period ends undecided: the escrow's fallback (REFUND_PAYER) applies
        assertThat(jdbc.update("UPDATE backend.escrows SET arbitration_deadline = now() - INTERVAL '1 second',"
                + " due_at = now() - INTERVAL '1 second' WHERE id = ? AND state = 'DISPUTED'", escrowId)).isEqualTo(1);
        JsonNode closed = leaves(poster, id, "DISPUTED");
        assertThat(closed.path("state").asString()).as(closed.toString()).isEqualTo("CLOSED");
        assertThat(closed.path("closure").path("how").asString()).isEqualTo("FALLBACK");
        assertThat(closed.path("payout").asString()).isEqualTo("0");
        assertThat(closed.path("refund").asString()).isEqualTo("15000");
        assertThat(closed.path("failure").path("disputeDetail").asString()).isEqualTo("right");
        assertThat(escrowState(poster, escrowId)).isEqualTo("RESOLVED");
        assertThat(available(poster)).isEqualTo(big(20_000));
        assertThat(available(winner)).isZero();
        assertThat(balances().escrowAccount(escrowId)).isZero();
        // nobody decided: the winner's disputed failure counts neither way
        assertThat(hasOutcome(winner, id)).isFalse();
        assertThat(count("SELECT count(*) FROM backend.events WHERE object_id = ? AND type = 'market.task_closed'"
                + " AND data LIKE '%\"closure\":\"FALLBACK\"%'", id)).isEqualTo(1L);
        refused(act(arbiter, id, "decision", Map.of("toWinner", "6000")), 409, "MARKET_ESCROW_CLOSED");
    }

    @Test
    void an_arbiter_deciding_through_the_escrow_api_resolves_the_disputed_task_with_its_split() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        FreshAgents.FreshAgent arbiter = FreshAgents.signIn(api(), MARKET_ARBITER_KEY);
        JsonNode allocated = allocatedTo(poster, winner, Map.of("disputeWindowSeconds", 3_600));
        String id = allocated.path("id").asString();
        String escrowId = allocated.path("escrowId").asString();
        assertThat(act(poster, id, "failure", Map.of("reason", "nothing delivered")).status()).isEqualTo(200);
        assertThat(act(winner, id, "dispute", Map.of("reason", "it was")).status()).isEqualTo(200);

        ApiClient.Response resolved = api().post("/api/v1/escrows/" + escrowId + "/resolve", arbiter.accessToken(), key(),
                Map.of("payees", List.of(Map.of("index", 0, "amount", "5000")), "payer", "10000"));
        assertThat(resolved.status()).as(resolved.toString()).isEqualTo(200);
        JsonNode decided = leaves(poster, id, "DISPUTED");
        assertThat(decided.path("state").asString()).as(decided.toString()).isEqualTo("RESOLVED");
        assertThat(decided.path("payout").asString()).isEqualTo("5000");
        assertThat(decided.path("refund").asString()).isEqualTo("10000");
        assertThat(available(winner)).isEqualTo(big(5_000 - 50));
        assertThat(available(poster)).isEqualTo(big(5_000 + 10_000));
        JsonNode outcome = reputation(winner).path("history").get(0);
        assertThat(outcome.path("subjectId").asString()).isEqualTo(id);
        assertThat(outcome.path("result").asString()).isEqualTo("RESOLVED");
        assertThat(outcome.path("quality").asInt()).isEqualTo(50); // 5,000 of the 10,000 clearing price
        refused(act(arbiter, id, "decision", Map.of("toWinner", "1")), 409, "MARKET_ALREADY_DECIDED");
    }

    @Test
    void concurrent_failure_reports_hold_the_escrow_once() throws Exception {
        FreshAgents.FreshAgent poster = funded(40_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        String id = allocatedTo(poster, winner, Map.of()).path("id").asString();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<ApiClient.Response>> calls = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                calls.add(pool.submit(() -> act(poster, id, "failure", Map.of("reason", "no result"))));
            }
            int reported = 0;
            for (Future<ApiClient.Response> call : calls) {
                ApiClient.Response response = call.get();
                if (response.status() == 200) {
                    reported++;
                } else {
                    refused(response, 409, "MARKET_TASK_FAILED");
                }
            }
            assertThat(reported).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.audit_records WHERE object_id = ?"
                + " AND action = 'MARKET_TASK_FAILURE_REPORTED'", Long.class, id)).isEqualTo(1L);
        // a replay of the same key answers the first response
        FreshAgents.FreshAgent winner2 = provider("summarize");
        String second = allocatedTo(poster, winner2, Map.of()).path("id").asString();
        String key = key();
        String path = "/api/v1/market/tasks/" + second + "/failure";
        ApiClient.Response first = api().post(path, poster.accessToken(), key, Map.of("reason", "x"));
        ApiClient.Response again = api().post(path, poster.accessToken(), key, Map.of("reason", "x"));
        assertThat(first.status()).as(first.toString()).isEqualTo(200);
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
    }

    // ------------------------------------------------------------------ evaluators

    @Test
    void a_tasks_evaluator_scores_it_instead_of_the_poster_and_may_not_bid() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        FreshAgents.FreshAgent evaluator = provider("summarize");
        JsonNode posted = posted(poster, 15_000, 3, Map.of("evaluator", evaluator.address()));
        String id = posted.path("id").asString();
        assertThat(posted.path("evaluator").asString()).isEqualTo(evaluator.address());
        refused(bid(evaluator, id, 100), 422, "MARKET_EVALUATOR_BID");
        bids(winner, id, 4_000);
        assertThat(closed(poster, id).path("state").asString()).isEqualTo("ALLOCATED");
        assertThat(act(winner, id, "complete", Map.of("resultRef", "ipfs://r")).status()).isEqualTo(200);
        refused(act(poster, id, "score", Map.of("quality", 100, "accuracy", 100)), 403, "MARKET_EVALUATOR_ONLY");
        refused(act(poster, id, "failure", Map.of("reason", "x")), 403, "MARKET_EVALUATOR_ONLY");
        ApiClient.Response scored = act(evaluator, id, "score", Map.of("quality", 100, "accuracy", 100));
        assertThat(scored.status()).as(scored.toString()).isEqualTo(200);
        // 1.0 * 1.5 (fast) * 1.0 = 15,000 of the 10,000 clearing price, the whole escrow
        assertThat(scored.json().path("payout").asString()).isEqualTo("15000");
        assertThat(available(winner)).isEqualTo(big(15_000 - 150));
        assertThat(available(poster)).isEqualTo(big(5_000));
        JsonNode outcome = reputation(winner).path("history").get(0);
        assertThat(outcome.path("result").asString()).isEqualTo("SCORED");
        assertThat(outcome.path("consumer").asString()).isEqualTo(evaluator.address());
    }

    // ------------------------------------------------------------------ listing

    @Test
    void tasks_list_open_by_capability_the_posters_and_the_bidders_in_keyset_pages() {
        String tag = "cap-" + Long.toHexString(System.nanoTime());
        FreshAgents.FreshAgent poster = funded(0);
        FreshAgents.FreshAgent bidder = provider(tag);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ApiClient.Response response = api().post("/api/v1/market/tasks", poster.accessToken(), key(), Map.of(
                    "capabilities", List.of(tag), "token", token, "budget", "1500", "biddingSeconds", 600,
                    "workSeconds", 60));
            assertThat(response.status()).as(response.toString()).isEqualTo(201);
            ids.add(response.json().path("id").asString());
        }
        bids(bidder, ids.get(1), 100);

        JsonNode page1 = api().get("/api/v1/market/tasks?capability=" + tag + "&limit=2", bidder.accessToken()).json();
        assertThat(page1.path("items")).hasSize(2);
        assertThat(page1.path("items").get(0).path("id").asString()).isEqualTo(ids.get(2));
        assertThat(page1.path("items").get(1).path("id").asString()).isEqualTo(ids.get(1));
        assertThat(page1.path("items").get(0).has("bids")).isFalse();
        String cursor = page1.path("nextCursor").asString();
        JsonNode page2 = api().get("/api/v1/market/tasks?capability=" + tag + "&limit=2&cursor=" + cursor,
                bidder.accessToken()).json();
        assertThat(page2.path("items")).hasSize(1);
        assertThat(page2.path("items").get(0).path("id").asString()).isEqualTo(ids.get(0));
        assertThat(page2.path("nextCursor").isNull() || page2.path("nextCursor").isMissingNode()).isTrue();

        JsonNode mine = api().get("/api/v1/market/tasks?role=poster", poster.accessToken()).json();
        assertThat(mine.path("items")).hasSize(3);
        JsonNode bidOn = api().get("/api/v1/market/tasks?role=bidder", bidder.accessToken()).json();
        assertThat(bidOn.path("items")).hasSize(1);
        assertThat(bidOn.path("items").get(0).path("id").asString()).isEqualTo(ids.get(1));
        JsonNode none = api().get("/api/v1/market/tasks?role=poster&state=SCORED", poster.accessToken()).json();
        assertThat(none.path("items")).isEmpty();

        refused(api().get("/api/v1/market/tasks?role=judge", poster.accessToken()), 400, "VALIDATION_FAILED");
        refused(api().get("/api/v1/market/tasks?state=DONE", poster.accessToken()), 400, "VALIDATION_FAILED");
        refused(api().get("/api/v1/market/tasks?limit=101", poster.accessToken()), 400, "VALIDATION_FAILED");
        refused(api().get("/api/v1/market/tasks?cursor=x", poster.accessToken()), 400, "VALIDATION_FAILED");
        refused(api().get("/api/v1/market/tasks", null), 401, "UNAUTHENTICATED");
    }

    // ------------------------------------------------------------------ review: crashes, limits, visibility

    @Test
    void an_allocation_retried_after_a_crash_that_lost_it_funds_the_escrow_once_at_the_price_of_the_close() {
        FreshAgents.FreshAgent w = provider("summarize");
        FreshAgents.FreshAgent r = provider("summarize");
        FreshAgents.FreshAgent poster = funded(20_000);
        JsonNode posted = posted(poster, 15_000, 8);
        String id = posted.path("id").asString();
        Instant closes = Instant.parse(posted.path("biddingClosesAt").asString());
        bids(w, id, 4_000);
        bids(r, id, 6_000);
        // neither bidder has an outcome at the close: w wins at r's 6,000, escrow 9,000. A first allocation
        // funded that escrow in the ledger and died before its database commit (the ledger commits first):
        Address posterAddress = Address.of(poster.address());
        String escrowId = dev.agentescrow.backend.escrow.EscrowIds.escrowId(posterAddress,
                MarketIds.taskEscrowKey(id, taskStore.escrowSecret(id)));
        dev.agentescrow.batcher.ledger.TransferReceipt funded = batcher.agentCommands().fundEscrow(posterAddress,
                dev.agentescrow.backend.escrow.EscrowIds.transfer(escrowId,
                        dev.agentescrow.backend.escrow.EscrowAction.CREATED, "fund", 1),
                escrowId, Address.of(token), dev.agentescrow.chain.Amount.of(9_000));
        assertThat(funded.committed()).as(funded.toString()).isTrue();
        // ...and before the retry, w's reputation moved: twenty outcomes recorded after the close
        outcomes(w, closes.plusSeconds(60));
        JsonNode allocated = closed(poster, id);
        assertThat(allocated.path("state").asString()).as(allocated.toString()).isEqualTo("ALLOCATED");
        assertThat(allocated.path("winner").asString()).isEqualTo(w.address());
        assertThat(allocated.path("clearingPrice").asString()).isEqualTo("6000");
        assertThat(allocated.path("escrowId").asString()).isEqualTo(escrowId);
        assertThat(available(poster)).isEqualTo(big(20_000 - 9_000));
        assertThat(balances().escrowAccount(escrowId)).isEqualTo(big(9_000));
    }

    @Test
    void a_bidder_that_takes_the_task_escrows_funding_id_first_does_not_block_the_allocation() {
        FreshAgents.FreshAgent w = provider("summarize");
        FreshAgents.FreshAgent r = provider("summarize");
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent bystander = funded(0);
        JsonNode posted = posted(poster, 15_000, 8);
        String id = posted.path("id").asString();
        bids(w, id, 4_000);
        bids(r, id, 6_000);
        // anyone reads the task's id and poster (a task is public), computes what the escrow's funding id
        // would be if its key were the task id alone, and commits a 1-unit payment of its own under it first
        FreshAgents.FreshAgent attacker = funded(1);
        Address posterAddress = Address.of(poster.address());
        String guessed = dev.agentescrow.backend.escrow.EscrowIds.escrowId(posterAddress, MarketIds.escrowKey(id));
        ApiClient.Response squat = api().post("/api/v1/transfers", attacker.accessToken(), key(), Map.of("to",
                bystander.address(), "token", token, "amount", "1", "id",
                dev.agentescrow.backend.escrow.EscrowIds.fund(guessed).toUuid().toString()));
        assertThat(squat.status()).as(squat.toString()).isEqualTo(201);
        JsonNode allocated = closed(poster, id);
        assertThat(allocated.path("state").asString()).as(allocated.toString()).isEqualTo("ALLOCATED");
        assertThat(allocated.path("winner").asString()).isEqualTo(w.address());
        assertThat(allocated.path("escrowId").asString()).isNotEqualTo(guessed);
        assertThat(available(poster)).isEqualTo(big(20_000 - 9_000));
        assertThat(balances().escrowAccount(allocated.path("escrowId").asString())).isEqualTo(big(9_000));
        assertThat(available(bystander)).isEqualTo(big(1));
    }

    @Test
    void a_task_whose_allocation_fails_does_not_hold_up_the_others_in_the_schedules_sweep() {
        FreshAgents.FreshAgent w = provider("summarize");
        FreshAgents.FreshAgent poster = funded(30_000);
        String first = posted(poster, 15_000, 6).path("id").asString();
        String trigger = "fail_" + first.substring(5, 21);
        // the first task's allocation fails every time (its row refuses to leave OPEN), as a task whose
        // payout the ledger refuses for a limit would; it closes first, so every sweep meets it first
        jdbc.execute("CREATE OR REPLACE FUNCTION backend." + trigger + "() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN RAISE EXCEPTION 'this task cannot be allocated'; END $$");
        jdbc.execute("CREATE TRIGGER " + trigger + " BEFORE UPDATE ON backend.market_tasks FOR EACH ROW"
                + " WHEN (NEW.id = '" + first + "' AND NEW.state <> 'OPEN') EXECUTE FUNCTION backend." + trigger + "()");
        String second = posted(poster, 15_000, 7).path("id").asString();
        try {
            bids(w, first, 4_000);
            bids(w, second, 4_000);
            // read from the table, not through GET (a read allocates a due task itself): the schedule's work
            awaitUntil("the second task allocated by the schedule's sweep",
                    () -> "ALLOCATED".equals(taskState(second)));
            assertThat(taskState(first)).isEqualTo("OPEN");
        } finally {
            jdbc.execute("DROP TRIGGER " + trigger + " ON backend.market_tasks");
            jdbc.execute("DROP FUNCTION backend." + trigger + "()");
        }
        awaitUntil("the first task allocated once it can be", () -> "ALLOCATED".equals(taskState(first)));
        assertThat(available(poster)).as("each escrow funded once").isEqualTo(big(30_000).subtract(escrowedOf(first))
                .subtract(escrowedOf(second)));
        assertThat(balances().escrowAccount(jdbc.queryForObject("SELECT escrow_id FROM backend.market_tasks WHERE id = ?",
                String.class, first))).isEqualTo(escrowedOf(first));
    }

    private String taskState(String id) {
        return jdbc.queryForObject("SELECT state FROM backend.market_tasks WHERE id = ?", String.class, id);
    }

    private BigInteger escrowedOf(String id) {
        return jdbc.queryForObject("SELECT escrowed FROM backend.market_tasks WHERE id = ?", java.math.BigDecimal.class, id)
                .toBigIntegerExact();
    }

    /** Twenty top outcomes of {@code agent} recorded at {@code at}, each from another fresh counterparty. */
    private void outcomes(FreshAgents.FreshAgent agent, Instant at) {
        for (int i = 0; i < 20; i++) {
            marketStore.addOutcome(Address.of(agent.address()), Address.of(String.format("0x%040x", new BigInteger(159,
                    new java.util.Random()))), MarketStore.OutcomeKind.TASK, "review_" + Long.toHexString(
                    System.nanoTime()) + i, MarketStore.OutcomeResult.SCORED, 200, false, at.plusSeconds(i));
        }
    }

    @Test
    void a_scoring_retried_after_a_crash_that_lost_its_payout_pays_once_though_the_winners_reputation_moved() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        String id = delivered(poster, winner);
        String escrowId = task(poster, id).path("escrowId").asString();
        BigInteger feesBefore = balances().fees();
        // quality 100, accuracy 80, delivered fast, no reputation at the delivery: 1.0 * 1.5 * 0.8 = 1.2x of the
        // clearing price 10,000 = 12,000 of the 15,000 held. A first scoring opened the split (committed)...
        assertThat(escrows.dispute(escrowId, Address.of(poster.address()), "market settlement of " + id).ok())
                .isTrue();
        // ...and its second transaction paid in the ledger and died before the database committed
        new TransactionTemplate(new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource))
                .executeWithoutResult(status -> {
                    assertThat(escrows.resolve(escrowId, Address.of(MARKET_ARBITER), Map.of(0, big(12_000)),
                            big(3_000)).ok()).isTrue();
                    status.setRollbackOnly();
                });
        assertThat(balances().escrowAccount(escrowId)).isZero();
        assertThat(task(poster, id).path("state").asString()).isEqualTo("COMPLETED");
        // before the poster's retry, the winner's reputation moved (outcomes of other work since)
        outcomes(winner, Instant.now());
        ApiClient.Response retried = act(poster, id, "score", Map.of("quality", 100, "accuracy", 80));
        assertThat(retried.status()).as(retried.toString()).isEqualTo(200);
        assertThat(retried.json().path("state").asString()).isEqualTo("SCORED");
        assertThat(retried.json().path("payout").asString()).isEqualTo("12000");
        assertThat(retried.json().path("refund").asString()).isEqualTo("3000");
        BigInteger fee = big(12_000).multiply(FEE_BPS).divide(big(10_000));
        assertThat(available(winner)).isEqualTo(big(12_000).subtract(fee));
        assertThat(available(poster)).isEqualTo(big(20_000 - 15_000 + 3_000));
        assertThat(balances().fees().subtract(feesBefore)).isEqualTo(fee);
        assertThat(escrowState(poster, escrowId)).isEqualTo("RESOLVED");
    }

    @Test
    void a_bid_beyond_the_tasks_limit_of_bids_is_refused() {
        String tag = "cap-" + Long.toHexString(System.nanoTime());
        FreshAgents.FreshAgent poster = funded(0);
        FreshAgents.FreshAgent bidder = provider(tag);
        JsonNode posted = posted(poster, 15_000, 3_600, Map.of("capabilities", List.of(tag)));
        String id = posted.path("id").asString();
        // the bids of a thousand other agents (rows as the service stores them)
        jdbc.update("INSERT INTO backend.market_bids (task_id, bidder, ask, created_at)"
                + " SELECT ?, '0x' || lpad(to_hex(g), 40, '0'), 100, now() FROM generate_series(1, 1000) g", id);
        try {
            refused(bid(bidder, id, 100), 409, "MARKET_TOO_MANY_BIDS");
        } finally {
            jdbc.update("DELETE FROM backend.market_bids WHERE task_id = ? AND bidder LIKE '0x00000000000000%'", id);
        }
        bids(bidder, id, 100);
    }

    @Test
    void a_tasks_result_reference_is_shown_to_its_parties_only() {
        FreshAgents.FreshAgent poster = funded(20_000);
        FreshAgents.FreshAgent winner = provider("summarize");
        String id = delivered(poster, winner);
        assertThat(task(poster, id).path("resultRef").asString()).isEqualTo("ipfs://done");
        assertThat(task(winner, id).path("resultRef").asString()).isEqualTo("ipfs://done");
        JsonNode seen = task(FreshAgents.signIn(api()), id);
        assertThat(seen.path("state").asString()).isEqualTo("COMPLETED");
        assertThat(seen.has("resultRef")).as(seen.toString()).isFalse();
    }

    // ------------------------------------------------------------------ metrics

    @Test
    void metrics_show_tasks_by_state_auctions_cleared_payouts_and_disputes_from_the_rows() {
        FreshAgents.FreshAgent poster = funded(0);
        posted(poster, 1_500, 600);
        awaitUntil("the marketplace's gauges", () -> {
            String metrics = api().get("/actuator/prometheus", null).raw().body();
            return metrics.lines().anyMatch(l -> l.startsWith("agentescrow_market_tasks{")
                    && l.contains("state=\"OPEN\"") && Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)) >= 1)
                    && metrics.lines().anyMatch(l -> l.startsWith("agentescrow_market_auctions_cleared"))
                    && metrics.lines().anyMatch(l -> l.startsWith("agentescrow_market_disputes{")
                    && l.contains("state=\"open\""))
                    && metrics.lines().anyMatch(l -> l.startsWith("agentescrow_market_disputes{")
                    && l.contains("state=\"decided\""));
        });
    }

    @Test
    void the_running_totals_equal_an_aggregation_of_the_rows_and_an_unrelated_update_moves_none() {
        FreshAgents.FreshAgent poster = funded(0);
        String taskId = posted(poster, 1_500, 600).path("id").asString();
        TransactionTemplate snapshot = new TransactionTemplate(transactionManager);
        snapshot.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
        snapshot.executeWithoutResult(status -> {
            Map<String, BigDecimal> kept = totals("""
                    SELECT metric, key1, key2, sum(value) FROM (
                        SELECT metric, key1, key2, value FROM backend.metric_totals
                        UNION ALL SELECT metric, key1, key2, delta FROM backend.metric_deltas) x
                    GROUP BY metric, key1, key2""");
            Map<String, BigDecimal> aggregated = totals("""
                    SELECT 'tasks', state, '', count(*) FROM backend.market_tasks GROUP BY state
                    UNION ALL SELECT 'cleared', '', '', count(*) FROM backend.market_tasks WHERE clearing_price IS NOT NULL
                    UNION ALL SELECT 'disputes', 'open', '', (SELECT count(*) FROM backend.market_tasks WHERE state = 'DISPUTED')
                        + (SELECT count(*) FROM backend.market_requests WHERE state = 'DISPUTED')
                    UNION ALL SELECT 'disputes', 'decided', '', (SELECT count(*) FROM backend.market_tasks WHERE state = 'RESOLVED')
                        + (SELECT count(*) FROM backend.market_requests WHERE state = 'RESOLVED')
                    UNION ALL SELECT 'payouts', 'TASK', token, sum(coalesce(payout, 0)) FROM backend.market_tasks
                        WHERE state IN ('SCORED', 'RESOLVED', 'CLOSED') GROUP BY token
                    UNION ALL SELECT 'payouts', 'REQUEST', token, sum(coalesce(payout, 0)) FROM backend.market_requests
                        WHERE state IN ('SCORED', 'RESOLVED', 'CLOSED') GROUP BY token
                    UNION ALL SELECT 'outcomes', kind, result, count(*) FROM backend.market_outcomes GROUP BY kind, result
                    UNION ALL SELECT 'channels', state, '', count(*) FROM backend.channels GROUP BY state""");
            assertThat(kept).isEqualTo(aggregated).containsKey("tasks|OPEN|");
        });
        // an update that changes no metric writes no delta (looked at inside one transaction, rolled back)
        snapshot.executeWithoutResult(status -> {
            long before = count("SELECT count(*) FROM backend.metric_deltas");
            jdbc.update("UPDATE backend.market_tasks SET description = description WHERE id = ?", taskId);
            assertThat(count("SELECT count(*) FROM backend.metric_deltas")).isEqualTo(before);
            jdbc.update("INSERT INTO backend.market_outcomes (agent, counterparty, kind, subject_id, result, quality, late, at)"
                    + " VALUES (?, ?, 'TASK', ?, 'FAILED', 0, false, now())", poster.address().toLowerCase(),
                    "0x" + "1".repeat(40), "t" + java.util.UUID.randomUUID().toString().replace("-", ""));
            assertThat(count("SELECT count(*) FROM backend.metric_deltas")).as("one outcome more").isEqualTo(before + 1);
            status.setRollbackOnly();
        });
    }

    /** Non-zero values by "metric|key1|key2". */
    private Map<String, BigDecimal> totals(String sql) {
        Map<String, BigDecimal> out = new java.util.TreeMap<>();
        jdbc.query(sql, rs -> {
            BigDecimal value = rs.getBigDecimal(4);
            if (value.signum() != 0) {
                out.put(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3), value.stripTrailingZeros());
            }
        });
        return out;
    }

    // ------------------------------------------------------------------ the story, end to end

    private FreshAgents.FreshAgent service(String capability, String price) {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        ApiClient.Response listed = api().post("/api/v1/market/services", agent.accessToken(), key(), Map.of(
                "capabilities", List.of(capability), "description", "work", "token", token, "price", price,
                "maxDeliverySeconds", 3600));
        assertThat(listed.status()).as(listed.toString()).isEqualTo(201);
        return agent;
    }

    private int reputationBps(FreshAgents.FreshAgent agent) {
        return reputation(agent).path("reputationBps").asInt();
    }

    /**
     * The story over HTTP against the Hardhat node: three agents bid, the auction allocates
     * at the Vickrey price and funds the escrow, the winner completes early with a high score and is
     * paid above base within the cap, the rest refunded, its reputation up; a second task is reported
     * failed, the winner disputes and the arbiter splits; a third misses its deadline and is
     * refunded, the agent's reputation down; a direct request is paid by quality; then the batch
     * settles, the vault's balances equal the ledger's, and the admin's verification is clean.
     */
    @Test
    void the_marketplace_story_settles_on_chain_and_the_vault_reconciles_with_the_ledger() {
        FreshAgents.FreshAgent poster = funded(100_000);
        FreshAgents.FreshAgent a = service("summarize", "100");
        FreshAgents.FreshAgent b = service("summarize", "100");
        FreshAgents.FreshAgent c = service("summarize", "100");
        FreshAgents.FreshAgent d = service("translate", "1000");
        FreshAgents.FreshAgent arbiter = FreshAgents.signIn(api(), MARKET_ARBITER_KEY);

        // 1. three bids; a (4,000) wins at c's 5,000; escrow 7,500; paid 1.2 * 1.5 * 0.8 = 1.44x = 7,200, 300 back
        String first = posted(poster, 15_000, 3).path("id").asString();
        bids(a, first, 4_000);
        bids(b, first, 6_000);
        bids(c, first, 5_000);
        JsonNode won = closed(poster, first);
        assertThat(won.path("winner").asString()).isEqualTo(a.address());
        assertThat(won.path("clearingPrice").asString()).isEqualTo("5000");
        assertThat(available(poster)).isEqualTo(big(100_000 - 7_500));
        assertThat(act(a, first, "complete", Map.of("resultRef", "ipfs://summary")).status()).isEqualTo(200);
        JsonNode scored = act(poster, first, "score", Map.of("quality", 120, "accuracy", 80)).json();
        assertThat(scored.path("payout").asString()).as(scored.toString()).isEqualTo("7200");
        assertThat(scored.path("refund").asString()).isEqualTo("300");
        assertThat(available(a)).isEqualTo(big(7_200 - 72));
        int reputationAfterSuccess = reputationBps(a);
        assertThat(reputationAfterSuccess).isEqualTo(6_000); // quality 120, on time

        // 2. b alone: the reserve (10,000), escrow 15,000; failure reported, disputed, the arbiter gives b 5,000
        String second = posted(poster, 15_000, 3, Map.of("disputeWindowSeconds", 3_600)).path("id").asString();
        bids(b, second, 9_000);
        assertThat(closed(poster, second).path("winner").asString()).isEqualTo(b.address());
        assertThat(act(b, second, "complete", Map.of("resultRef", "ipfs://draft")).status()).isEqualTo(200);
        assertThat(act(poster, second, "failure", Map.of("reason", "off topic")).status()).isEqualTo(200);
        assertThat(act(b, second, "dispute", Map.of("reason", "on topic")).status()).isEqualTo(200);
        JsonNode decided = act(arbiter, second, "decision", Map.of("toWinner", "5000")).json();
        assertThat(decided.path("state").asString()).as(decided.toString()).isEqualTo("RESOLVED");
        assertThat(available(b)).isEqualTo(big(5_000 - 50));

        // 3. a alone again, 1 s for the work: no result by the late window's end; refunded, a's reputation down
        String third = posted(poster, 15_000, 3, Map.of("workSeconds", 1)).path("id").asString();
        bids(a, third, 9_000);
        assertThat(closed(poster, third).path("winner").asString()).isEqualTo(a.address());
        JsonNode missed = leaves(poster, third, "ALLOCATED");
        assertThat(missed.path("state").asString()).as(missed.toString()).isEqualTo("FAILED");
        assertThat(missed.path("failure").path("reason").asString()).isEqualTo("DEADLINE_MISSED");
        assertThat(reputationBps(a)).isLessThan(reputationAfterSuccess);

        // 4. a direct request to d (price 1,000, escrow 1,500): quality 80, fast = 0.8 * 1.5 = 1.2x = 1,200, 300 back
        String serviceId = api().get("/api/v1/market/services?provider=" + d.address(), d.accessToken()).json()
                .path("items").get(0).path("id").asString();
        ApiClient.Response requested = api().post("/api/v1/market/services/" + serviceId + "/requests",
                poster.accessToken(), key(), Map.of());
        assertThat(requested.status()).as(requested.toString()).isEqualTo(201);
        String request = "/api/v1/market/requests/" + requested.json().path("id").asString();
        assertThat(api().post(request + "/complete", d.accessToken(), key(), Map.of("resultRef", "ipfs://t"))
                .status()).isEqualTo(200);
        JsonNode paid = api().post(request + "/score", poster.accessToken(), key(), Map.of("quality", 80,
                "accuracy", 100)).json();
        assertThat(paid.path("payout").asString()).as(paid.toString()).isEqualTo("1200");
        assertThat(available(d)).isEqualTo(big(1_200 - 12));
        assertThat(available(poster)).isEqualTo(big(100_000 - 7_200 - 5_000 - 1_200));

        // 5. a withdraws; the batch settles; the vault's settled balances equal the ledger's
        ApiClient.Response withdrawal = api().post("/api/v1/withdrawals", a.accessToken(), key(),
                Map.of("token", token, "amount", "1000"));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
        String withdrawalId = withdrawal.json().path("id").asString();
        awaitUntil("a's withdrawal paid", () -> "PAID".equals(api().get("/api/v1/withdrawals/" + withdrawalId,
                a.accessToken()).json().path("state").asString()));
        assertThat(CHAIN.deployment().token(CHAIN.client()).balanceOf(Address.of(a.address())).baseUnits())
                .isEqualTo(big(1_000));
        var vault = CHAIN.deployment().vault(CHAIN.client());
        for (FreshAgents.FreshAgent agent : List.of(poster, a, b, d)) {
            awaitUntil("vault == ledger for " + agent.address(), () -> vault.settledBalance(Address.of(token),
                    Address.of(agent.address())).baseUnits().equals(available(agent)));
        }
        assertThat(available(a)).isEqualTo(big(7_200 - 72 - 1_000));
        String admin = login(ADMIN_ACCOUNT);
        awaitUntil("a clean verification", () -> {
            JsonNode verified = api().post("/api/v1/admin/verify", admin, key(), "{}").json();
            return verified.path("ok").asBoolean() && verified.path("reconciled").asBoolean();
        });
    }
}
