package dev.agentescrow.backend.workflow;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.chain.Address;
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
import tools.jackson.databind.JsonNode;

/**
 * Workflows over real HTTP against the Hardhat node and the embedded PostgreSQL: a flexible
 * workflow of three steps with one failure pays two agents and refunds one share; an atomic
 * pipeline with a failed middle step pays no one and refunds everything; the same pipeline
 * succeeding pays all three at once; every refusal with its code, 401 and 404, idempotent and
 * conflicting replays, concurrent reports paying once, a deadline failing a step; the ledger's
 * balances (payer, agents, FEES, the workflow's own account) exact after each. Every party is a
 * fresh key; the funder's tokens come from the faucet and a deposit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowsIT extends WorkflowITSupport {
    @Autowired
    WorkflowMoney money;

    @Autowired
    WorkflowStore store;

    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    private FreshAgents.FreshAgent funder;

    @BeforeAll
    void fund() {
        deposit(20_000_000);
        funder = funding.agent();
    }

    // ------------------------------------------------------------------ helpers

    private FreshAgents.FreshAgent agent() {
        return funded(0);
    }

    private static Map<String, Object> step(String key, FreshAgents.FreshAgent agent, String... deps) {
        return step(key, agent, Instant.now().plusSeconds(3600), deps);
    }

    private static Map<String, Object> step(String key, FreshAgents.FreshAgent agent, Instant deadline, String... deps) {
        Map<String, Object> step = new HashMap<>();
        step.put("key", key);
        step.put("agent", agent.address());
        step.put("capability", "etl");
        step.put("deadline", deadline.toString());
        step.put("dependsOn", List.of(deps));
        return step;
    }

    private Map<String, Object> workflow(String mode, long amount, List<Map<String, Object>> steps) {
        Map<String, Object> body = new HashMap<>();
        body.put("token", token);
        body.put("mode", mode);
        if (amount > 0) {
            body.put("amount", Long.toString(amount));
        }
        body.put("maxFeeBps", 100);
        body.put("steps", steps);
        return body;
    }

    /** A flexible workflow of steps a and b, 15,000 held for each, with performance pay up to 1.5x judged by {@code evaluator}. */
    private String performanceWorkflow(FreshAgents.FreshAgent payer, FreshAgents.FreshAgent a, FreshAgents.FreshAgent b,
                                       FreshAgents.FreshAgent evaluator) {
        Map<String, Object> body = workflow("flexible", 30_000, List.of(step("a", a), step("b", b)));
        body.put("evaluator", evaluator.address());
        body.put("performancePay", Map.of("maxMultiplierBps", 15_000));
        return created(payer, body).path("id").asString();
    }

    // ------------------------------------------------------------------ end to end

    @Test
    void a_flexible_workflow_of_three_steps_with_one_failure_pays_two_agents_and_refunds_one_share() {
        FreshAgents.FreshAgent payer = funded(1_000_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        FreshAgents.FreshAgent c = agent();
        BigInteger feesBefore = balances().fees();
        JsonNode wf = created(payer, workflow("flexible", 900_000, List.of(step("extract", a), step("transform", b),
                step("load", c, "extract"))));
        String id = wf.path("id").asString();
        assertThat(available(payer)).isEqualTo(big(100_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(900_000));
        assertThat(stepOf(wf, "extract").path("state").asString()).isEqualTo("RUNNING");
        assertThat(stepOf(wf, "load").path("state").asString()).isEqualTo("WAITING");
        assertThat(stepOf(wf, "load").path("share").asString()).isEqualTo("300000");

        refused(report(c, id, "load", "SUCCEEDED"), 409, "WORKFLOW_STEP_NOT_STARTED");
        refused(report(b, id, "extract", "SUCCEEDED"), 403, "WORKFLOW_REPORTER_REQUIRED");
        refused(report(payer, id, "extract", "SUCCEEDED"), 403, "WORKFLOW_REPORTER_REQUIRED");
        refused(report(agent(), id, "extract", "SUCCEEDED"), 404, "NOT_FOUND");
        refused(report(a, id, "nothing", "SUCCEEDED"), 404, "WORKFLOW_STEP_NOT_FOUND");

        JsonNode afterA = reported(a, id, "extract", "SUCCEEDED");
        assertThat(stepOf(afterA, "load").path("state").asString()).isEqualTo("RUNNING");
        assertThat(available(a)).isEqualTo(net(300_000));
        refused(report(a, id, "extract", "FAILED"), 409, "WORKFLOW_STEP_FINISHED");

        JsonNode afterB = reported(b, id, "transform", "FAILED");
        assertThat(stepOf(afterB, "transform").path("refunded").asString()).isEqualTo("300000");
        assertThat(available(payer)).isEqualTo(big(400_000));
        JsonNode done = reported(c, id, "load", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("PARTIAL");
        assertThat(done.path("paid").asString()).isEqualTo(net(300_000).multiply(big(2)).toString());
        assertThat(done.path("fees").asString()).isEqualTo(fee(300_000).multiply(big(2)).toString());
        assertThat(done.path("refunded").asString()).isEqualTo("300000");
        assertThat(done.path("held").asString()).isEqualTo("0");

        assertThat(available(a)).isEqualTo(net(300_000));
        assertThat(available(b)).isZero();
        assertThat(available(c)).isEqualTo(net(300_000));
        assertThat(available(payer)).isEqualTo(big(400_000));
        assertThat(balances().escrowAccount(id)).isZero();
        assertThat(balances().fees().subtract(feesBefore)).isEqualTo(fee(300_000).multiply(big(2)));
        assertThat(jdbc.queryForObject("SELECT sum(amount) FROM backend.fee_charges WHERE subject = ? AND source ="
                + " 'WORKFLOW' AND fee_type = 'PLATFORM'", java.math.BigDecimal.class, "workflow:" + id).toBigIntegerExact())
                .isEqualTo(fee(300_000).multiply(big(2)));
        JsonNode read = get(payer, id);
        assertThat(read.path("transfers")).hasSize(6);
        assertThat(get(c, id).path("id").asString()).isEqualTo(id);
        assertThat(api().get("/api/v1/workflows/" + id, agent().accessToken()).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/workflows/" + id, null).status()).isEqualTo(401);
        refused(api().post("/api/v1/workflows/" + id + "/steps/load/report", null, key(), Map.of("outcome", "FAILED")),
                401, "UNAUTHENTICATED");
    }

    @Test
    void an_atomic_pipeline_with_a_failed_middle_step_pays_no_one_and_refunds_everything() {
        FreshAgents.FreshAgent payer = funded(600_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        FreshAgents.FreshAgent c = agent();
        String id = created(payer, workflow("atomic", 600_000, List.of(step("a", a), step("b", b, "a"),
                step("c", c, "b")))).path("id").asString();
        assertThat(available(payer)).isZero();
        reported(a, id, "a", "SUCCEEDED");
        assertThat(available(a)).isZero();
        JsonNode failed = reported(b, id, "b", "FAILED");
        assertThat(failed.path("state").asString()).isEqualTo("FAILED");
        assertThat(stepOf(failed, "c").path("state").asString()).isEqualTo("FAILED");
        assertThat(failed.path("refunded").asString()).isEqualTo("600000");
        refused(report(c, id, "c", "SUCCEEDED"), 409, "WORKFLOW_STEP_FINISHED");
        assertThat(available(payer)).isEqualTo(big(600_000));
        assertThat(available(a)).isZero();
        assertThat(available(b)).isZero();
        assertThat(available(c)).isZero();
        assertThat(balances().escrowAccount(id)).isZero();
    }

    @Test
    void the_atomic_pipeline_succeeding_pays_all_three_at_once() {
        FreshAgents.FreshAgent payer = funded(600_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        FreshAgents.FreshAgent c = agent();
        FreshAgents.FreshAgent evaluator = agent();
        Map<String, Object> body = workflow("atomic", 600_000, List.of(step("a", a), step("b", b, "a"),
                step("c", c, "b")));
        body.put("evaluator", evaluator.address());
        String id = created(payer, body).path("id").asString();
        reported(a, id, "a", "SUCCEEDED");
        reported(evaluator, id, "b", "SUCCEEDED");
        assertThat(available(a)).isZero();
        assertThat(available(b)).isZero();
        JsonNode done = reported(c, id, "c", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        for (FreshAgents.FreshAgent agent : List.of(a, b, c)) {
            assertThat(available(agent)).isEqualTo(net(200_000));
        }
        assertThat(stepOf(done, "b").path("reportedBy").asString()).isEqualTo(evaluator.address());
        List<Long> sequences = new ArrayList<>();
        done.path("transfers").forEach(t -> {
            if (!t.path("kind").asString().equals("FUND")) {
                sequences.add(t.path("sequence").asLong());
            }
        });
        assertThat(sequences).hasSize(6);
        assertThat(sequences.stream().mapToLong(Long::longValue).max().getAsLong()
                - sequences.stream().mapToLong(Long::longValue).min().getAsLong()).isEqualTo(5);
        assertThat(balances().escrowAccount(id)).isZero();
        assertThat(available(payer)).isZero();
    }

    @Test
    void an_atomic_workflow_split_by_execution_time_pays_the_whole_amount() {
        FreshAgents.FreshAgent payer = funded(1_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        Map<String, Object> body = workflow("atomic", 1_000, List.of(step("a", a), step("b", b, "a")));
        body.put("split", "EXECUTION_TIME");
        String id = created(payer, body).path("id").asString();
        reported(a, id, "a", "SUCCEEDED");
        JsonNode done = reported(b, id, "b", "SUCCEEDED");
        BigInteger shareA = new BigInteger(stepOf(done, "a").path("share").asString());
        BigInteger shareB = new BigInteger(stepOf(done, "b").path("share").asString());
        assertThat(shareA.add(shareB)).isEqualTo(big(1_000));
        assertThat(new BigInteger(done.path("paid").asString()).add(new BigInteger(done.path("fees").asString())))
                .isEqualTo(big(1_000));
        assertThat(available(a).add(available(b))).isEqualTo(new BigInteger(done.path("paid").asString()));
    }

    @Test
    void performance_pay_pays_each_step_by_its_scores_and_refunds_the_rest_of_its_share() {
        FreshAgents.FreshAgent payer = funded(30_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        FreshAgents.FreshAgent evaluator = agent();
        String id = performanceWorkflow(payer, a, b, evaluator);
        String path = "/api/v1/workflows/" + id + "/steps/a/report";
        refused(report(a, id, "a", "SUCCEEDED"), 403, "WORKFLOW_EVALUATOR_REQUIRED");
        refused(report(evaluator, id, "a", "SUCCEEDED"), 422, "WORKFLOW_SCORES_REQUIRED");
        refused(api().post(path, evaluator.accessToken(), key(), Map.of("outcome", "SUCCEEDED",
                "scores", Map.of("quality", 201, "accuracy", 100))), 400, "VALIDATION_FAILED");
        // base 10,000 of the 15,000 held; quality 0.5x, speed 1.5x (minutes of an hour), accuracy 1.0x: 7,500
        ApiClient.Response scored = api().post(path, evaluator.accessToken(), key(), Map.of("outcome", "SUCCEEDED",
                "scores", Map.of("quality", 50, "accuracy", 100)));
        assertThat(scored.status()).as(scored.toString()).isEqualTo(200);
        JsonNode stepA = stepOf(scored.json(), "a");
        assertThat(stepA.path("paid").asString()).isEqualTo(net(7_500).toString());
        assertThat(stepA.path("refunded").asString()).isEqualTo("7500");
        assertThat(stepA.path("performance").asString()).contains("= 7500");
        assertThat(available(a)).isEqualTo(net(7_500));
        assertThat(available(payer)).isEqualTo(big(7_500));
        reported(b, id, "b", "FAILED");
        assertThat(available(payer)).isEqualTo(big(22_500));
        assertThat(balances().escrowAccount(id)).isZero();
        Map<String, Object> noEvaluator = workflow("flexible", 100, List.of(step("x", a)));
        noEvaluator.put("performancePay", Map.of("maxMultiplierBps", 15_000));
        refused(create(payer, noEvaluator), 422, "WORKFLOW_EVALUATOR_MISSING");
    }

    // ------------------------------------------------------------------ refusals and replays

    @Test
    void every_bad_workflow_is_refused_with_its_code_and_nothing_is_held() {
        FreshAgents.FreshAgent payer = funded(1_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        refused(create(payer, workflow("flexible", 100, List.of())), 422, "WORKFLOW_EMPTY");
        List<Map<String, Object>> many = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            many.add(step("s" + i, a));
        }
        refused(create(payer, workflow("flexible", 1_000, many)), 422, "WORKFLOW_TOO_LARGE");
        refused(create(payer, workflow("flexible", 100, List.of(step("x", a, "y"), step("y", b, "x")))), 422,
                "WORKFLOW_CYCLE");
        refused(create(payer, workflow("flexible", 100, List.of(step("x", a, "nope")))), 422,
                "WORKFLOW_UNKNOWN_DEPENDENCY");
        refused(create(payer, workflow("flexible", 100, List.of(step("x", a, "x")))), 422, "WORKFLOW_SELF_DEPENDENCY");
        refused(create(payer, workflow("flexible", 100, List.of(step("x", a), step("x", b)))), 422,
                "WORKFLOW_DUPLICATE_STEP");
        Map<String, Object> weighted = step("x", a);
        weighted.put("weight", "6000");
        Map<String, Object> other = step("y", b);
        other.put("weight", "3000");
        Map<String, Object> weights = workflow("flexible", 100, List.of(weighted, other));
        weights.put("split", "WEIGHTS");
        refused(create(payer, weights), 422, "WORKFLOW_WEIGHTS_MISMATCH");
        Map<String, Object> timed = workflow("flexible", 100, List.of(step("x", a)));
        timed.put("split", "EXECUTION_TIME");
        refused(create(payer, timed), 422, "WORKFLOW_SPLIT_NOT_ALLOWED");
        refused(create(payer, workflow("flexible", 100, List.of(step("x", payer)))), 422, "WORKFLOW_AGENT_IS_PAYER");
        refused(create(payer, workflow("flexible", 100, List.of(step("x", a, Instant.now().minusSeconds(5))))), 422,
                "WORKFLOW_DEADLINE_PASSED");
        Map<String, Object> greedy = workflow("flexible", 100, List.of(step("x", a)));
        greedy.put("maxFeeBps", 99);
        refused(create(payer, greedy), 422, "WORKFLOW_FEE_ABOVE_MAX");
        refused(create(payer, workflow("flexible", 1_001, List.of(step("x", a), step("y", b)))), 422,
                "INSUFFICIENT_FUNDS");
        refused(create(payer, workflow("bogus", 100, List.of(step("x", a)))), 400, "VALIDATION_FAILED");
        assertThat(available(payer)).isEqualTo(big(1_000));
        assertThat(api().post("/api/v1/workflows", null, key(), workflow("flexible", 100, List.of(step("x", a))))
                .status()).isEqualTo(401);
        assertThat(api().get("/api/v1/workflows/wf_" + "0".repeat(32), payer.accessToken()).status()).isEqualTo(404);

        Map<String, Object> weightsOk = workflow("flexible", 1_000, List.of(weighted, Map.of("key", "y", "agent",
                b.address(), "capability", "etl", "deadline", Instant.now().plusSeconds(600).toString(),
                "weight", "4000")));
        weightsOk.put("split", "WEIGHTS");
        JsonNode split = created(payer, weightsOk);
        assertThat(stepOf(split, "x").path("share").asString()).isEqualTo("600");
        assertThat(stepOf(split, "y").path("share").asString()).isEqualTo("400");
        assertThat(available(payer)).isZero();
    }

    @Test
    void replays_answer_the_first_response_and_a_different_body_is_refused() {
        FreshAgents.FreshAgent payer = funded(1_000);
        FreshAgents.FreshAgent a = agent();
        Map<String, Object> body = workflow("flexible", 500, List.of(step("x", a)));
        String key = key();
        ApiClient.Response first = api().post("/api/v1/workflows", payer.accessToken(), key, body);
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        ApiClient.Response replay = api().post("/api/v1/workflows", payer.accessToken(), key, body);
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        body.put("amount", "501");
        refused(api().post("/api/v1/workflows", payer.accessToken(), key, body), 422, "IDEMPOTENCY_KEY_REUSED");
        assertThat(available(payer)).isEqualTo(big(500));

        String id = first.json().path("id").asString();
        String reportKey = key();
        String path = "/api/v1/workflows/" + id + "/steps/x/report";
        ApiClient.Response done = api().post(path, a.accessToken(), reportKey, Map.of("outcome", "SUCCEEDED"));
        assertThat(done.status()).as(done.toString()).isEqualTo(200);
        ApiClient.Response again = api().post(path, a.accessToken(), reportKey, Map.of("outcome", "SUCCEEDED"));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        refused(api().post(path, a.accessToken(), reportKey, Map.of("outcome", "FAILED")), 422,
                "IDEMPOTENCY_KEY_REUSED");
        assertThat(available(a)).isEqualTo(net(500));
    }

    @Test
    void concurrent_reports_of_one_step_pay_once() throws Exception {
        FreshAgents.FreshAgent payer = funded(10_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent evaluator = agent();
        Map<String, Object> body = workflow("flexible", 10_000, List.of(step("x", a), step("y", a)));
        body.put("evaluator", evaluator.address());
        String id = created(payer, body).path("id").asString();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<ApiClient.Response>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                FreshAgents.FreshAgent who = i % 2 == 0 ? a : evaluator;
                String outcome = i % 3 == 0 ? "FAILED" : "SUCCEEDED";
                calls.add(pool.submit(() -> report(who, id, "x", outcome)));
            }
            int ok = 0;
            for (Future<ApiClient.Response> call : calls) {
                ApiClient.Response response = call.get();
                if (response.status() == 200) {
                    ok++;
                } else {
                    refused(response, 409, "WORKFLOW_STEP_FINISHED");
                }
            }
            assertThat(ok).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        JsonNode read = get(payer, id);
        JsonNode x = stepOf(read, "x");
        boolean succeeded = x.path("state").asString().equals("SUCCEEDED");
        assertThat(available(a)).isEqualTo(succeeded ? net(5_000) : BigInteger.ZERO);
        assertThat(available(payer)).isEqualTo(succeeded ? BigInteger.ZERO : big(5_000));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(5_000));
    }

    @Test
    void a_step_past_its_deadline_fails_and_its_share_is_refunded() {
        FreshAgents.FreshAgent payer = funded(1_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        Instant soon = Instant.now().plusSeconds(8);
        String id = created(payer, workflow("flexible", 1_000, List.of(step("x", a, soon), step("y", b, "x"))))
                .path("id").asString();
        awaitUntil("the deadline passed and the step failed", () -> get(payer, id).path("state").asString()
                .equals("FAILED"));
        JsonNode read = get(payer, id);
        assertThat(stepOf(read, "x").path("reason").asString()).isEqualTo("DEADLINE_PASSED");
        assertThat(stepOf(read, "y").path("reason").asString()).isEqualTo("DEPENDENCY_FAILED");
        refused(report(a, id, "x", "SUCCEEDED"), 409, "WORKFLOW_STEP_FINISHED");
        assertThat(available(payer)).isEqualTo(big(1_000));
        assertThat(balances().escrowAccount(id)).isZero();
    }

    // ------------------------------------------------------------------ recovery and documentation

    @Test
    void a_payout_the_ledger_committed_but_the_service_lost_is_recovered_and_paid_once() {
        FreshAgents.FreshAgent payer = funded(1_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        FreshAgents.FreshAgent evaluator = agent();
        Map<String, Object> body = workflow("flexible", 1_000, List.of(step("x", a), step("y", b)));
        body.put("evaluator", evaluator.address());
        String id = created(payer, body).path("id").asString();
        // The ledger commits step x's payout; the service's transaction that would record it is lost.
        Workflow w = store.find(id).orElseThrow();
        WorkflowRules.Plan lost = WorkflowRules.report(w, "x", Address.of(a.address()), WorkflowRules.Outcome.SUCCEEDED,
                null, Instant.now(), money::fee).plan();
        money.payOut(w, lost.payouts(), "WORKFLOW_STEP_SUCCEEDED", Address.of(a.address()).hex(), "a lost commit");
        assertThat(available(a)).isEqualTo(net(500));
        assertThat(balances().escrowAccount(id)).isEqualTo(big(500));

        // A contrary report finds the ledger's outcome applied first: no refund of money that has left.
        refused(report(evaluator, id, "x", "FAILED"), 409, "WORKFLOW_STEP_FINISHED");
        JsonNode read = get(payer, id);
        assertThat(stepOf(read, "x").path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(stepOf(read, "x").path("reportedBy").asString()).isEqualTo("recovery");
        assertThat(stepOf(read, "x").path("paid").asString()).isEqualTo(net(500).toString());
        refused(report(a, id, "x", "SUCCEEDED"), 409, "WORKFLOW_STEP_FINISHED");
        JsonNode done = reported(b, id, "y", "SUCCEEDED");
        assertThat(done.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(available(a)).isEqualTo(net(500));
        assertThat(available(b)).isEqualTo(net(500));
        assertThat(available(payer)).isZero();
        assertThat(balances().escrowAccount(id)).isZero();
    }

    @Test
    void ids_a_party_derives_from_the_workflow_and_squats_first_do_not_block_its_payouts_or_refunds() {
        // Every party reads the workflow's id and payer. The payer commits, from its own account and
        // before agent a is paid, a transfer under the id derived from them for a's payout
        // (WorkflowIds.transfer(payer, id, "agent:0")); agent b does the same for the refund of b's
        // share. Neither may block the workflow's money: a is paid, b's share goes back to the payer.
        FreshAgents.FreshAgent payer = funded(10_010);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = funded(10);
        FreshAgents.FreshAgent bystander = agent();
        String id = created(payer, workflow("flexible", 10_000, List.of(step("a", a), step("b", b))))
                .path("id").asString();
        Address payerAddress = Address.of(payer.address());
        squat(payer, WorkflowIds.transfer(payerAddress, id, "agent:0"), bystander);
        squat(b, WorkflowIds.transfer(payerAddress, id, "payer:1"), bystander);

        JsonNode paid = reported(a, id, "a", "SUCCEEDED");
        assertThat(stepOf(paid, "a").path("paid").asString()).isEqualTo(net(5_000).toString());
        JsonNode done = reported(b, id, "b", "FAILED");
        assertThat(done.path("state").asString()).isEqualTo("PARTIAL");
        assertThat(stepOf(done, "b").path("refunded").asString()).isEqualTo("5000");
        assertThat(available(a)).isEqualTo(net(5_000));
        assertThat(available(payer)).isEqualTo(big(5_009));
        assertThat(available(b)).isEqualTo(big(9));
        assertThat(available(bystander)).isEqualTo(big(2));
        assertThat(balances().escrowAccount(id)).isZero();
    }

    @Test
    void a_workflow_created_before_the_transfer_secret_pays_and_refunds_under_its_old_ids() {
        FreshAgents.FreshAgent payer = funded(10_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        String id = created(payer, workflow("flexible", 10_000, List.of(step("a", a), step("b", b))))
                .path("id").asString();
        // as a row written before V18_5_1 has it
        assertThat(jdbc.update("UPDATE backend.workflows SET transfer_salt = NULL WHERE id = ?", id)).isEqualTo(1);

        JsonNode paid = reported(a, id, "a", "SUCCEEDED");
        assertThat(stepOf(paid, "a").path("paid").asString()).isEqualTo(net(5_000).toString());
        JsonNode done = reported(b, id, "b", "FAILED");
        assertThat(done.path("state").asString()).isEqualTo("PARTIAL");
        assertThat(available(a)).isEqualTo(net(5_000));
        assertThat(available(payer)).isEqualTo(big(5_000));
        assertThat(balances().escrowAccount(id)).isZero();
        Address payerAddress = Address.of(payer.address());
        assertThat(batcher.reads().transfer(WorkflowIds.transfer(payerAddress, id, "agent:0"), 0, java.time.Duration.ZERO)
                .get()).as("a's payout under the id derived without a secret").isPresent();
        assertThat(batcher.reads().transfer(WorkflowIds.transfer(payerAddress, id, "payer:1"), 0, java.time.Duration.ZERO)
                .get()).isPresent();
    }

    /** {@code who} pays 1 base unit to {@code to} under transfer id {@code id} (a client may choose its ids). */
    private void squat(FreshAgents.FreshAgent who, dev.agentescrow.batcher.ledger.TransferId id,
                       FreshAgents.FreshAgent to) {
        ApiClient.Response paid = api().post("/api/v1/transfers", who.accessToken(), key(), Map.of("to", to.address(),
                "token", token, "amount", "1", "id", id.toUuid().toString()));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        assertThat(paid.json().path("status").asString()).isEqualTo("COMMITTED");
    }

    /** What the lost change paid as part {@code kind}:{@code index}, zero if it paid nothing there. */
    private static BigInteger lostPart(WorkflowRules.Plan lost, WorkflowRules.Payout.Kind kind, int index) {
        return lost.payouts().stream().filter(p -> p.kind() == kind && p.index() == index)
                .map(WorkflowRules.Payout::amount).reduce(BigInteger.ZERO, BigInteger::add);
    }

    private static long transfersOf(JsonNode workflow, String kind, String step) {
        long n = 0;
        for (JsonNode t : workflow.path("transfers")) {
            if (t.path("kind").asString().equals(kind) && t.path("step").asString().equals(step)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void a_lost_atomic_execution_time_payout_is_adopted_as_the_ledger_committed_it() {
        FreshAgents.FreshAgent payer = funded(1_000_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        Map<String, Object> body = workflow("atomic", 1_000_000, List.of(step("a", a), step("b", b, "a")));
        body.put("split", "EXECUTION_TIME");
        String id = created(payer, body).path("id").asString();
        reported(a, id, "a", "SUCCEEDED");
        // The ledger commits the last step's success as measured then (b ran 30 minutes); the
        // service's transaction that would record it is lost. Recomputed at recovery, the shares differ.
        Workflow w = store.find(id).orElseThrow();
        Instant lostAt = w.step("b").orElseThrow().startedAt().plusSeconds(1_800);
        WorkflowRules.Plan lost = WorkflowRules.report(w, "b", Address.of(b.address()), WorkflowRules.Outcome.SUCCEEDED,
                null, lostAt, money::fee).plan();
        var receipts = money.payOut(w, lost.payouts(), "WORKFLOW_STEP_SUCCEEDED", Address.of(b.address()).hex(),
                "a lost commit");
        assertThat(receipts).allMatch(r -> r.committed());
        BigInteger shareA = lost.after().steps().get(0).share();
        BigInteger shareB = lost.after().steps().get(1).share();
        assertThat(shareA.add(shareB)).isEqualTo(big(1_000_000));
        assertThat(balances().escrowAccount(id)).isZero();

        // The next change adopts the ledger's payouts: no 500, no second payout, the amounts as committed.
        refused(report(b, id, "b", "SUCCEEDED"), 409, "WORKFLOW_STEP_FINISHED");
        JsonNode read = get(payer, id);
        assertThat(read.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(read.path("held").asString()).isEqualTo("0");
        assertThat(stepOf(read, "a").path("share").asString()).isEqualTo(shareA.toString());
        assertThat(stepOf(read, "b").path("share").asString()).isEqualTo(shareB.toString());
        assertThat(stepOf(read, "b").path("reportedBy").asString()).isEqualTo("recovery");
        for (int i = 0; i < 2; i++) {
            String key = i == 0 ? "a" : "b";
            assertThat(stepOf(read, key).path("paid").asString())
                    .isEqualTo(lostPart(lost, WorkflowRules.Payout.Kind.AGENT, i).toString());
            assertThat(stepOf(read, key).path("fee").asString()).isEqualTo(lostPart(lost, WorkflowRules.Payout.Kind.FEE, i)
                    .add(lostPart(lost, WorkflowRules.Payout.Kind.PROTOCOL_FEE, i)).toString());
            assertThat(transfersOf(read, "AGENT", key)).as("payouts to step " + key).isEqualTo(1);
        }
        assertThat(available(a)).isEqualTo(lostPart(lost, WorkflowRules.Payout.Kind.AGENT, 0));
        assertThat(available(b)).isEqualTo(lostPart(lost, WorkflowRules.Payout.Kind.AGENT, 1));
        assertThat(new BigInteger(read.path("paid").asString()).add(new BigInteger(read.path("fees").asString())))
                .isEqualTo(big(1_000_000));
        assertThat(available(payer)).isZero();
        assertThat(balances().escrowAccount(id)).isZero();
    }

    @Test
    void a_lost_performance_payout_is_adopted_as_the_ledger_committed_it() {
        FreshAgents.FreshAgent payer = funded(30_000);
        FreshAgents.FreshAgent a = agent();
        FreshAgents.FreshAgent b = agent();
        FreshAgents.FreshAgent evaluator = agent();
        String id = performanceWorkflow(payer, a, b, evaluator);
        // The ledger commits the evaluator's scored success (quality 50, late in the step's hour); the
        // service's commit is lost, and with it the scores: a recomputation could not repeat the amount.
        Workflow w = store.find(id).orElseThrow();
        Instant lostAt = w.step("a").orElseThrow().startedAt().plusSeconds(3_000);
        WorkflowRules.Plan lost = WorkflowRules.report(w, "a", Address.of(evaluator.address()),
                WorkflowRules.Outcome.SUCCEEDED, null, new WorkflowRules.Scores(50, 100), lostAt, money::fee).plan();
        money.payOut(w, lost.payouts(), "WORKFLOW_STEP_SUCCEEDED", Address.of(evaluator.address()).hex(),
                "a lost commit");
        BigInteger net = lostPart(lost, WorkflowRules.Payout.Kind.AGENT, 0);
        BigInteger fees = lostPart(lost, WorkflowRules.Payout.Kind.FEE, 0)
                .add(lostPart(lost, WorkflowRules.Payout.Kind.PROTOCOL_FEE, 0));
        BigInteger refund = lostPart(lost, WorkflowRules.Payout.Kind.PAYER, 0);
        assertThat(net.add(fees).add(refund)).isEqualTo(big(15_000));
        assertThat(refund.signum()).isPositive();
        assertThat(available(a)).isEqualTo(net);

        // A contrary report finds the ledger's outcome adopted first: 409, not 500, and no second payout.
        refused(report(evaluator, id, "a", "FAILED"), 409, "WORKFLOW_STEP_FINISHED");
        JsonNode read = get(payer, id);
        JsonNode stepA = stepOf(read, "a");
        assertThat(stepA.path("state").asString()).isEqualTo("SUCCEEDED");
        assertThat(stepA.path("reportedBy").asString()).isEqualTo("recovery");
        assertThat(stepA.path("paid").asString()).isEqualTo(net.toString());
        assertThat(stepA.path("fee").asString()).isEqualTo(fees.toString());
        assertThat(stepA.path("refunded").asString()).isEqualTo(refund.toString());
        assertThat(transfersOf(read, "AGENT", "a")).isEqualTo(1);
        assertThat(transfersOf(read, "PAYER", "a")).isEqualTo(1);
        assertThat(available(payer)).isEqualTo(refund);

        reported(b, id, "b", "FAILED");
        JsonNode done = get(payer, id);
        assertThat(done.path("state").asString()).isEqualTo("PARTIAL");
        assertThat(done.path("paid").asString()).isEqualTo(net.toString());
        assertThat(done.path("fees").asString()).isEqualTo(fees.toString());
        assertThat(done.path("refunded").asString()).isEqualTo(refund.add(big(15_000)).toString());
        assertThat(available(a)).isEqualTo(net);
        assertThat(available(payer)).isEqualTo(refund.add(big(15_000)));
        assertThat(balances().escrowAccount(id)).isZero();
    }

    @Test
    void the_openapi_document_lists_the_workflow_endpoints_and_codes() {
        JsonNode doc = api().get("/v3/api-docs", null).json();
        assertThat(doc.path("paths").has("/api/v1/workflows")).isTrue();
        assertThat(doc.path("paths").has("/api/v1/workflows/{id}")).isTrue();
        assertThat(doc.path("paths").path("/api/v1/workflows/{id}/steps/{key}/report").path("post").path("responses")
                .path("409").path("content").has("application/problem+json")).isTrue();
        for (String code : new String[] {"WORKFLOW_CYCLE", "WORKFLOW_UNKNOWN_DEPENDENCY", "WORKFLOW_SELF_DEPENDENCY",
                "WORKFLOW_EMPTY", "WORKFLOW_TOO_LARGE", "WORKFLOW_WEIGHTS_MISMATCH", "WORKFLOW_STEP_FINISHED",
                "WORKFLOW_STEP_NOT_STARTED", "WORKFLOW_REPORTER_REQUIRED", "INSUFFICIENT_FUNDS"}) {
            assertThat(doc.path("x-error-codes").path(code).asString()).as(code).isNotBlank();
        }
    }
}
