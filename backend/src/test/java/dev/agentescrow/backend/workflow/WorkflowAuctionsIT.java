package dev.agentescrow.backend.workflow;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.market.ReverseVickreyAuction;
import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.FreshAgents;
import java.math.BigInteger;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
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
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.JsonNode;

/**
 * Workflow steps allocated by the marketplace's auction, over real HTTP against the Hardhat node
 * and the embedded PostgreSQL: three sealed bids, the Vickrey price paid and the rest of the budget
 * refunded at the allocation; every bid refusal with its code; no bid failing the step and its
 * dependants; an ATOMIC workflow with an auctioned step (success, and no bid refunding all); bid
 * replays; concurrent triggers of one allocation refunding once. The ledger's balances (payer,
 * agents, fees, the workflow's own account) are exact after each, and what left the payer equals
 * what the others received (nothing lost or created). Every party is a fresh key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowAuctionsIT extends WorkflowITSupport {
    /** Long enough for a few bids under a loaded machine, short enough to wait for. */
    private static final long WINDOW_SECONDS = 10;

    @Autowired
    Workflows workflows;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    WorkflowStore store;

    @Autowired
    WorkflowMoney money;

    @BeforeAll
    void fund() {
        deposit(1_000_000);
    }

    // ------------------------------------------------------------------ helpers

    /** A fresh agent listing an active service with {@code capability}. */
    private FreshAgents.FreshAgent provider(String capability) {
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api());
        ApiClient.Response listed = api().post("/api/v1/market/services", agent.accessToken(), key(), Map.of(
                "capabilities", List.of(capability), "description", "work", "token", token, "price", "100",
                "maxDeliverySeconds", 3600));
        assertThat(listed.status()).as(listed.toString()).isEqualTo(201);
        return agent;
    }

    private static Instant closesIn(long seconds) {
        return Instant.now().plusSeconds(seconds).truncatedTo(ChronoUnit.MILLIS);
    }

    private static Map<String, Object> named(String key, FreshAgents.FreshAgent agent, long price, String... deps) {
        Map<String, Object> step = new HashMap<>();
        step.put("key", key);
        step.put("agent", agent.address());
        step.put("capability", "etl");
        step.put("deadline", Instant.now().plusSeconds(3600).toString());
        step.put("dependsOn", List.of(deps));
        step.put("price", Long.toString(price));
        return step;
    }

    private static Map<String, Object> auctioned(String key, String capability, long budget, Instant closes,
                                                 String... deps) {
        Map<String, Object> step = new HashMap<>();
        step.put("key", key);
        step.put("capability", capability);
        step.put("deadline", Instant.now().plusSeconds(3600).toString());
        step.put("dependsOn", List.of(deps));
        step.put("budget", Long.toString(budget));
        step.put("biddingClosesAt", closes.toString());
        return step;
    }

    /** A PRICES workflow: each named step at its price, each auctioned step at its budget. */
    private Map<String, Object> workflow(String mode, List<Map<String, Object>> steps) {
        Map<String, Object> body = new HashMap<>();
        body.put("token", token);
        body.put("mode", mode);
        body.put("split", "PRICES");
        body.put("maxFeeBps", 100);
        body.put("steps", steps);
        return body;
    }

    private ApiClient.Response bid(FreshAgents.FreshAgent who, String id, String step, long ask) {
        return api().post("/api/v1/workflows/" + id + "/steps/" + step + "/bids", who.accessToken(), key(),
                Map.of("ask", Long.toString(ask)));
    }

    private void bids(FreshAgents.FreshAgent who, String id, String step, long ask) {
        ApiClient.Response response = bid(who, id, step, ask);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("ask").asString()).isEqualTo(Long.toString(ask));
    }

    /**
     * Waits until step {@code key}'s auction is closed and settled (the leader's schedule or these
     * reads close it): allocated with its surplus refunded, or failed without a bid.
     */
    private JsonNode closed(FreshAgents.FreshAgent who, String id, String key) {
        awaitUntil("the auction of " + key + " closed and settled", () -> {
            JsonNode step = stepOf(get(who, id), key);
            String state = step.path("auction").path("state").asString();
            return state.equals("ALLOCATED") ? step.path("auction").has("surplus")
                    : state.equals("NO_BIDS") && step.path("state").asString().equals("FAILED");
        });
        return get(who, id);
    }

    private static long transfers(JsonNode workflow, String kind) {
        long n = 0;
        for (JsonNode t : workflow.path("transfers")) {
            if (t.path("kind").asString().equals(kind)) {
                n++;
            }
        }
        return n;
    }

    private int audits(String action, String object) {
        Integer n = jdbc.queryForObject("SELECT count(*) FROM backend.audit_records WHERE action = ? AND object_id = ?",
                Integer.class, action, object);
        return n == null ? 0 : n;
    }

    // ------------------------------------------------------------------ flows

    @Test
    void three_bidders_the_lowest_wins_at_the_second_price_and_the_rest_of_the_budget_is_refunded() {
        FreshAgents.FreshAgent payer = funded(20_000);
        FreshAgents.FreshAgent a = funded(0);
        FreshAgents.FreshAgent b1 = provider("etl");
        FreshAgents.FreshAgent b2 = provider("etl");
        FreshAgents.FreshAgent b3 = provider("etl");
        BigInteger feesBefore = balances().fees();
        Instant closes = closesIn(WINDOW_SECONDS);
        JsonNode wf = created(payer, workflow("flexible", List.of(named("extract", a, 4_000),
                auctioned("transform", "etl", 10_000, closes, "extract"))));
        String id = wf.path("id").asString();
        assertThat(wf.path("amount").asString()).isEqualTo("14000");
        assertThat(available(payer)).isEqualTo(big(6_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(14_000));
        JsonNode open = stepOf(wf, "transform");
        assertThat(open.has("agent")).isFalse();
        assertThat(open.path("share").asString()).isEqualTo("10000");
        assertThat(open.path("auction").path("state").asString()).isEqualTo("OPEN");
        assertThat(open.path("auction").path("maxBasePrice").asString()).isEqualTo("10000");

        bids(b2, id, "transform", 5_000);
        bids(b1, id, "transform", 3_000);
        bids(b3, id, "transform", 7_000);
        // sealed: no count, no winner while the window is open; a bidder sees the workflow
        JsonNode sealed = stepOf(get(b3, id), "transform").path("auction");
        if (Instant.now().isBefore(closes)) {
            assertThat(sealed.has("bids")).isFalse();
            assertThat(sealed.has("winner")).isFalse();
        }
        refused(api().get("/api/v1/workflows/" + id, funded(0).accessToken()), 404, "NOT_FOUND");

        JsonNode allocated = closed(payer, id, "transform");
        JsonNode step = stepOf(allocated, "transform");
        JsonNode auction = step.path("auction");
        assertThat(auction.path("state").asString()).isEqualTo("ALLOCATED");
        assertThat(auction.path("bids").asInt()).isEqualTo(3);
        assertThat(auction.path("winner").asString()).isEqualTo(b1.address());
        assertThat(auction.path("price").asString()).isEqualTo("5000");
        assertThat(auction.path("reserveApplied").asBoolean()).isFalse();
        assertThat(auction.path("surplus").asString()).isEqualTo("5000");
        assertThat(step.path("agent").asString()).isEqualTo(b1.address());
        assertThat(step.path("share").asString()).isEqualTo("5000");
        assertThat(step.path("state").asString()).isEqualTo("WAITING");
        assertThat(transfers(allocated, "SURPLUS")).isEqualTo(1);
        assertThat(available(payer)).isEqualTo(big(11_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(9_000));

        refused(api().post("/api/v1/workflows/" + id + "/steps/transform/report", b2.accessToken(), key(),
                Map.of("outcome", "SUCCEEDED")), 404, "NOT_FOUND");
        reported(a, id, "extract", "SUCCEEDED");
        JsonNode done = reported(b1, id, "transform", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(available(a)).isEqualTo(net(4_000));
        assertThat(available(b1)).isEqualTo(net(5_000));
        assertThat(available(b2)).isZero();
        assertThat(available(b3)).isZero();
        assertThat(available(payer)).isEqualTo(big(11_000));
        assertThat(balances().escrowAccount(id)).isZero();
        assertThat(balances().fees().subtract(feesBefore)).isEqualTo(fee(4_000).add(fee(5_000)));
        // nothing lost or created: what left the payer is what the agents and the fee accounts received
        assertThat(big(20_000).subtract(available(payer))).isEqualTo(available(a).add(available(b1))
                .add(balances().fees().subtract(feesBefore)));
        assertThat(done.path("paid").asString()).isEqualTo(net(4_000).add(net(5_000)).toString());
        assertThat(done.path("refunded").asString()).isEqualTo("5000");
        assertThat(audits("WORKFLOW_STEP_ALLOCATED", id + "/transform")).isEqualTo(1);
        assertThat(audits("WORKFLOW_BID_PLACED", id + "/transform")).isEqualTo(3);
    }

    @Test
    void every_bad_bid_is_refused_with_its_code_and_a_single_bid_is_paid_the_budget() {
        FreshAgents.FreshAgent payer = funded(10_000);
        FreshAgents.FreshAgent a = funded(0);
        FreshAgents.FreshAgent evaluator = provider("etl");
        FreshAgents.FreshAgent bidder = provider("etl");
        FreshAgents.FreshAgent other = provider("translate");
        Instant closes = closesIn(WINDOW_SECONDS);
        Map<String, Object> body = workflow("flexible", List.of(named("n", a, 1_000), auctioned("x", "etl", 2_000,
                closes)));
        body.put("evaluator", evaluator.address());
        String id = created(payer, body).path("id").asString();

        refused(bid(payer, id, "x", 100), 422, "WORKFLOW_SELF_BID");
        refused(bid(evaluator, id, "x", 100), 422, "WORKFLOW_EVALUATOR_BID");
        refused(bid(bidder, id, "n", 100), 409, "WORKFLOW_STEP_NOT_AUCTIONED");
        refused(bid(bidder, id, "nothing", 100), 404, "WORKFLOW_STEP_NOT_FOUND");
        refused(bid(bidder, "wf_" + "0".repeat(32), "x", 100), 404, "NOT_FOUND");
        refused(bid(bidder, id, "x", 2_001), 422, "WORKFLOW_BID_ABOVE_MAX");
        refused(bid(other, id, "x", 100), 422, "WORKFLOW_CAPABILITY_MISSING");
        refused(bid(funded(0), id, "x", 100), 422, "WORKFLOW_CAPABILITY_MISSING");
        for (String ask : List.of("0", "-1", "1.5", "abc", "1".repeat(80))) {
            refused(api().post("/api/v1/workflows/" + id + "/steps/x/bids", bidder.accessToken(), key(),
                    Map.of("ask", ask)), 400, "VALIDATION_FAILED");
        }
        refused(api().post("/api/v1/workflows/" + id + "/steps/x/bids", bidder.accessToken(), key(), Map.of()), 400,
                "VALIDATION_FAILED");
        assertThat(api().post("/api/v1/workflows/" + id + "/steps/x/bids", null, key(), Map.of("ask", "1")).status())
                .isEqualTo(401);

        String bidKey = key();
        String path = "/api/v1/workflows/" + id + "/steps/x/bids";
        ApiClient.Response first = api().post(path, bidder.accessToken(), bidKey, Map.of("ask", "1500"));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        ApiClient.Response again = api().post(path, bidder.accessToken(), bidKey, Map.of("ask", "1500"));
        assertThat(again.status()).isEqualTo(201);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(again.json()).isEqualTo(first.json());
        refused(api().post(path, bidder.accessToken(), bidKey, Map.of("ask", "1400")), 422, "IDEMPOTENCY_KEY_REUSED");
        refused(bid(bidder, id, "x", 1_400), 409, "WORKFLOW_DUPLICATE_BID");
        assertThat(audits("WORKFLOW_BID_PLACED", id + "/x")).isEqualTo(1);

        JsonNode allocated = closed(payer, id, "x");
        refused(bid(provider("etl"), id, "x", 100), 409, "WORKFLOW_BIDDING_CLOSED");
        JsonNode auction = stepOf(allocated, "x").path("auction");
        assertThat(auction.path("bids").asInt()).isEqualTo(1);
        assertThat(auction.path("price").asString()).isEqualTo("2000");
        assertThat(auction.path("reserveApplied").asBoolean()).isTrue();
        assertThat(auction.path("surplus").asString()).isEqualTo("0");
        assertThat(transfers(allocated, "SURPLUS")).isZero();
        assertThat(stepOf(allocated, "x").path("state").asString()).isEqualTo("RUNNING");
        assertThat(available(payer)).isEqualTo(big(7_000));
        JsonNode done = reported(evaluator, id, "x", "SUCCEEDED");
        assertThat(stepOf(done, "x").path("paid").asString()).isEqualTo(net(2_000).toString());
        assertThat(available(bidder)).isEqualTo(net(2_000));
    }

    @Test
    void an_allocation_with_nothing_to_refund_while_its_step_waits_is_settled_and_leaves_the_schedule() {
        // A single bid is paid the maximum base price, here the whole budget: the surplus is 0. The
        // step waits for its dependency, so the allocation changes no step's state and moves no money;
        // the schedule must still record it, else the workflow stays due (and takes one of the
        // sweep's slots every second) until its dependency finishes.
        FreshAgents.FreshAgent payer = funded(3_000);
        FreshAgents.FreshAgent a = funded(0);
        FreshAgents.FreshAgent bidder = provider("etl");
        Instant closes = closesIn(WINDOW_SECONDS);
        String id = created(payer, workflow("flexible", List.of(named("n", a, 1_000), auctioned("x", "etl", 2_000,
                closes, "n")))).path("id").asString();
        bids(bidder, id, "x", 1_500);
        awaitUntil("the auction of x allocated", () -> stepOf(get(payer, id), "x").path("auction").path("state")
                .asString().equals("ALLOCATED"));
        awaitUntil("the allocation recorded (surplus 0) and the workflow no longer due", () ->
                stepOf(get(payer, id), "x").path("auction").path("surplus").asString().equals("0")
                        && !workflows.due(100_000).contains(id));
        java.sql.Timestamp dueAt = jdbc.queryForObject("SELECT due_at FROM backend.workflows WHERE id = ?",
                java.sql.Timestamp.class, id);
        assertThat(dueAt.toInstant()).isAfter(Instant.now());
        JsonNode waiting = stepOf(get(payer, id), "x");
        assertThat(waiting.path("state").asString()).isEqualTo("WAITING");
        assertThat(waiting.path("share").asString()).isEqualTo("2000");
        assertThat(available(payer)).isZero();

        reported(a, id, "n", "SUCCEEDED");
        JsonNode done = reported(bidder, id, "x", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(available(bidder)).isEqualTo(net(2_000));
        assertThat(available(a)).isEqualTo(net(1_000));
        assertThat(balances().escrowAccount(id)).isZero();
        assertThat(transfers(done, "SURPLUS")).isZero();
    }

    @Test
    void a_workflow_with_a_bad_auctioned_step_is_refused_and_nothing_is_held() {
        FreshAgents.FreshAgent payer = funded(1_000);
        FreshAgents.FreshAgent a = funded(0);
        Map<String, Object> both = auctioned("x", "etl", 100, closesIn(60));
        both.put("agent", a.address());
        refused(create(payer, workflow("flexible", List.of(both))), 422, "WORKFLOW_AUCTION_MISMATCH");
        Map<String, Object> late = auctioned("x", "etl", 100, Instant.now().plusSeconds(7_200));
        refused(create(payer, workflow("flexible", List.of(late))), 422, "WORKFLOW_BIDDING_WINDOW");
        Map<String, Object> tiny = workflow("flexible", List.of(auctioned("x", "etl", 1, closesIn(60))));
        tiny.put("evaluator", a.address());
        tiny.put("performancePay", Map.of("maxMultiplierBps", 15_000));
        refused(create(payer, tiny), 422, "WORKFLOW_BUDGET_TOO_SMALL");
        Map<String, Object> badTime = auctioned("x", "etl", 100, closesIn(60));
        badTime.put("biddingClosesAt", "tomorrow");
        refused(create(payer, workflow("flexible", List.of(badTime))), 400, "VALIDATION_FAILED");
        refused(create(payer, workflow("flexible", List.of(auctioned("x", "etl", 1_001, closesIn(60))))), 422,
                "INSUFFICIENT_FUNDS");
        assertThat(available(payer)).isEqualTo(big(1_000));
    }

    @Test
    void without_a_bid_the_step_fails_its_dependants_fail_and_its_budget_is_refunded() {
        FreshAgents.FreshAgent payer = funded(10_000);
        FreshAgents.FreshAgent b = funded(0);
        FreshAgents.FreshAgent c = funded(0);
        Instant closes = closesIn(6);
        String id = created(payer, workflow("flexible", List.of(auctioned("x", "etl", 3_000, closes),
                named("y", b, 1_000, "x"), named("z", c, 2_000)))).path("id").asString();
        assertThat(available(payer)).isEqualTo(big(4_000));
        awaitUntil("the step without a bid failed", () -> stepOf(get(payer, id), "x").path("state").asString()
                .equals("FAILED"));
        JsonNode read = get(payer, id);
        assertThat(stepOf(read, "x").path("reason").asString()).isEqualTo("NO_BIDS");
        assertThat(stepOf(read, "x").path("auction").path("state").asString()).isEqualTo("NO_BIDS");
        assertThat(stepOf(read, "x").path("auction").path("bids").asInt()).isZero();
        assertThat(stepOf(read, "x").path("refunded").asString()).isEqualTo("3000");
        assertThat(stepOf(read, "y").path("reason").asString()).isEqualTo("DEPENDENCY_FAILED");
        assertThat(stepOf(read, "z").path("state").asString()).isEqualTo("RUNNING");
        assertThat(available(payer)).isEqualTo(big(8_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(2_000));
        JsonNode done = reported(c, id, "z", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("PARTIAL");
        assertThat(available(c)).isEqualTo(net(2_000));
        assertThat(balances().escrowAccount(id)).isZero();
        assertThat(audits("WORKFLOW_STEP_UNALLOCATED", id + "/x")).isEqualTo(1);
    }

    @Test
    void an_atomic_workflow_pays_its_auctioned_step_with_the_others_or_refunds_everything_without_a_bid() {
        FreshAgents.FreshAgent payer = funded(20_000);
        FreshAgents.FreshAgent a = funded(0);
        FreshAgents.FreshAgent b1 = provider("etl");
        FreshAgents.FreshAgent b2 = provider("etl");
        Instant closes = closesIn(WINDOW_SECONDS);
        String id = created(payer, workflow("atomic", List.of(named("a", a, 1_000),
                auctioned("b", "etl", 5_000, closes, "a")))).path("id").asString();
        // The unsold one closes a window later: closing both at once raced its refund against the
        // payer's balance checked below after the first allocation (15,000 instead of 9,000 when
        // the scheduler had failed the unsold workflow first).
        String unsold = created(payer, workflow("atomic", List.of(named("a", a, 1_000),
                auctioned("b", "etl", 5_000, closes.plusSeconds(WINDOW_SECONDS))))).path("id").asString();
        assertThat(available(payer)).isEqualTo(big(8_000));
        bids(b1, id, "b", 4_000);
        bids(b2, id, "b", 2_500);
        reported(a, id, "a", "SUCCEEDED");
        assertThat(available(a)).isZero();

        JsonNode allocated = closed(payer, id, "b");
        assertThat(stepOf(allocated, "b").path("auction").path("winner").asString()).isEqualTo(b2.address());
        assertThat(stepOf(allocated, "b").path("auction").path("price").asString()).isEqualTo("4000");
        assertThat(stepOf(allocated, "b").path("state").asString()).isEqualTo("RUNNING");
        assertThat(available(payer)).isEqualTo(big(9_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(5_000));
        JsonNode done = reported(b2, id, "b", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(available(a)).isEqualTo(net(1_000));
        assertThat(available(b2)).isEqualTo(net(4_000));
        assertThat(balances().escrowAccount(id)).isZero();

        awaitUntil("the atomic workflow without a bid failed", () -> get(payer, unsold).path("state").asString()
                .equals("FAILED"));
        JsonNode failed = get(payer, unsold);
        assertThat(stepOf(failed, "b").path("reason").asString()).isEqualTo("NO_BIDS");
        assertThat(stepOf(failed, "a").path("reason").asString()).isEqualTo("WORKFLOW_FAILED");
        assertThat(failed.path("refunded").asString()).isEqualTo("6000");
        assertThat(balances().escrowAccount(unsold)).isZero();
        assertThat(available(payer)).isEqualTo(big(15_000));
        assertThat(available(a)).isEqualTo(net(1_000));
    }

    @Test
    void concurrent_triggers_of_one_allocation_allocate_and_refund_once() throws Exception {
        FreshAgents.FreshAgent payer = funded(10_000);
        FreshAgents.FreshAgent b1 = provider("etl");
        FreshAgents.FreshAgent b2 = provider("etl");
        Instant closes = closesIn(6);
        String id = created(payer, workflow("flexible", List.of(auctioned("x", "etl", 8_000, closes))))
                .path("id").asString();
        bids(b1, id, "x", 1_000);
        bids(b2, id, "x", 3_000);
        awaitUntil("the window closed", () -> Instant.now().isAfter(closes.plusMillis(50)));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Object>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                FreshAgents.FreshAgent who = i % 3 == 0 ? payer : i % 3 == 1 ? b1 : b2;
                calls.add(i % 4 == 3 ? () -> {
                    workflows.expire(id, false);
                    return null;
                } : () -> get(who, id));
            }
            for (Future<Object> f : pool.invokeAll(calls)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        JsonNode read = closed(payer, id, "x");
        assertThat(stepOf(read, "x").path("auction").path("winner").asString()).isEqualTo(b1.address());
        assertThat(stepOf(read, "x").path("auction").path("price").asString()).isEqualTo("3000");
        assertThat(transfers(read, "SURPLUS")).isEqualTo(1);
        assertThat(available(payer)).isEqualTo(big(7_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(3_000));
        assertThat(audits("WORKFLOW_STEP_ALLOCATED", id + "/x")).isEqualTo(1);
        Integer events = jdbc.queryForObject("SELECT count(*) FROM backend.events WHERE type = 'workflow.step_allocated'"
                + " AND object_id = ?", Integer.class, id);
        assertThat(events).isEqualTo(1);
        JsonNode done = reported(b1, id, "x", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(available(b1)).isEqualTo(net(3_000));
        assertThat(big(10_000).subtract(available(payer))).isEqualTo(net(3_000).add(fee(3_000)));
    }

    @Test
    void a_surplus_refund_the_ledger_committed_but_the_service_lost_is_adopted_and_refunded_once() {
        FreshAgents.FreshAgent payer = funded(10_000);
        FreshAgents.FreshAgent b1 = provider("etl");
        FreshAgents.FreshAgent b2 = provider("etl");
        Instant closes = closesIn(WINDOW_SECONDS);
        String id = created(payer, workflow("flexible", List.of(auctioned("x", "etl", 6_000, closes))))
                .path("id").asString();
        bids(b1, id, "x", 2_000);
        bids(b2, id, "x", 2_500);
        // The allocation (fresh bidders: no reputation discount) and its surplus refund as the service
        // makes them; the ledger commits the refund, the service's transaction that records it is lost.
        Workflow w = store.find(id).orElseThrow();
        List<ReverseVickreyAuction.Bid> sealed = store.bids(id, 0).stream().map(b -> new ReverseVickreyAuction.Bid(
                b.bidder().hex(), b.ask(), 0, b.sequence())).toList();
        Workflow allocated = WorkflowRules.closeAuction(w, 0, ReverseVickreyAuction.allocate(sealed, big(6_000))
                .orElseThrow(), 2, closes);
        WorkflowRules.Plan lost = WorkflowRules.advance(allocated, closes, money::fee);
        assertThat(lost.payouts()).hasSize(1);
        money.payOut(allocated, lost.payouts(), "WORKFLOW_DEADLINE", WorkflowRules.SERVICE, "a lost commit");
        assertThat(available(payer)).isEqualTo(big(7_500));

        JsonNode read = closed(payer, id, "x");
        assertThat(stepOf(read, "x").path("auction").path("price").asString()).isEqualTo("2500");
        assertThat(stepOf(read, "x").path("auction").path("surplus").asString()).isEqualTo("3500");
        assertThat(transfers(read, "SURPLUS")).isEqualTo(1);
        assertThat(read.path("held").asString()).isEqualTo("2500");
        assertThat(available(payer)).isEqualTo(big(7_500));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(2_500));
        JsonNode done = reported(b1, id, "x", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(available(b1)).isEqualTo(net(2_500));
        assertThat(available(payer)).isEqualTo(big(7_500));
        assertThat(balances().escrowAccount(id)).isZero();
    }

    @Test
    void the_openapi_document_lists_the_bid_endpoint_and_its_codes() {
        JsonNode doc = api().get("/v3/api-docs", null).json();
        assertThat(doc.path("paths").path("/api/v1/workflows/{id}/steps/{key}/bids").path("post").path("responses")
                .path("409").path("content").has("application/problem+json")).isTrue();
        for (String code : new String[] {"WORKFLOW_SELF_BID", "WORKFLOW_EVALUATOR_BID", "WORKFLOW_STEP_NOT_AUCTIONED",
                "WORKFLOW_BIDDING_CLOSED", "WORKFLOW_BID_ABOVE_MAX", "WORKFLOW_CAPABILITY_MISSING",
                "WORKFLOW_DUPLICATE_BID", "WORKFLOW_BIDS_FULL", "WORKFLOW_AUCTION_MISMATCH", "WORKFLOW_BIDDING_WINDOW",
                "WORKFLOW_BUDGET_TOO_SMALL"}) {
            assertThat(doc.path("x-error-codes").path(code).asString()).as(code).isNotBlank();
        }
    }
}
