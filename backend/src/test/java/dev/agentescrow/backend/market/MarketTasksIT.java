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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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
    JdbcTemplate jdbc;

    private String token;
    private FreshAgents.FreshAgent funder;

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        funder = FreshAgents.signIn(api(), TestChain.fundedFreshKey());
        ApiClient.Response minted = api().post("/api/v1/faucet", funder.accessToken(), key(),
                Map.of("token", token, "amount", "10000000"));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        var signer = CHAIN.client().signer(funder.key());
        var vault = CHAIN.deployment().vault(CHAIN.client());
        CHAIN.deployment().token(CHAIN.client()).approve(signer, vault.address(), Amount.of(10_000_000));
        vault.deposit(signer, Address.of(token), Amount.of(10_000_000));
        awaitUntil("the funder's deposit credited", () -> available(funder).signum() > 0);
    }

    // ------------------------------------------------------------------ helpers

    private FreshAgents.FreshAgent funded(long amount) {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        if (amount > 0) {
            ApiClient.Response paid = api().post("/api/v1/transfers", funder.accessToken(), key(),
                    Map.of("to", agent.address(), "token", token, "amount", Long.toString(amount)));
            assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        }
        return agent;
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
        Map<String, Object> body = new HashMap<>(Map.of("capabilities", List.of("summarize"), "token", token,
                "budget", Long.toString(budget), "biddingSeconds", biddingSeconds, "workSeconds", 3600));
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
}
