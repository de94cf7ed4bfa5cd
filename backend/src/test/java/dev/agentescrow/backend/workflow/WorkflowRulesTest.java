package dev.agentescrow.backend.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DAG checks of a draft and the state machine of reports, deadlines, propagation and money, as pure decisions. */
class WorkflowRulesTest {
    static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    static final Address PAYER = Address.of("0x00000000000000000000000000000000000000a1");
    static final Address TOKEN = Address.of("0x00000000000000000000000000000000000000f1");
    static final Address A = Address.of("0x0000000000000000000000000000000000000001");
    static final Address B = Address.of("0x0000000000000000000000000000000000000002");
    static final Address C = Address.of("0x0000000000000000000000000000000000000003");
    static final WorkflowRules.Fees ONE_PERCENT = (gross, w) -> new FeeRates(w.feeBps(), w.protocolFeeBps())
            .split(gross);

    private static WorkflowDraft.StepDraft step(String key, Address agent, String... deps) {
        return new WorkflowDraft.StepDraft(key, agent, "work", NOW.plusSeconds(3600), List.of(deps), null, null);
    }

    private static WorkflowDraft draft(WorkflowMode mode, SplitKind split, long amount, WorkflowDraft.StepDraft... steps) {
        return new WorkflowDraft(TOKEN, mode, split, amount == 0 ? null : BigInteger.valueOf(amount), null, 100, null,
                List.of(steps));
    }

    private static String problem(WorkflowDraft draft) {
        WorkflowDraft.Checked checked = draft.check(PAYER, NOW, Duration.ofDays(30));
        return checked.ok() ? null : checked.problem().code();
    }

    private static Workflow created(WorkflowDraft draft) {
        WorkflowDraft.Checked checked = draft.check(PAYER, NOW, Duration.ofDays(30));
        assertThat(checked.ok()).as(String.valueOf(checked.problem())).isTrue();
        return WorkflowRules.started(new Workflow("wf_" + "0".repeat(32), PAYER, TOKEN, null, draft.mode(), draft.split(),
                WorkflowState.RUNNING, checked.amount(), BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, 100, 0, 100, null, 1,
                NOW, NOW, checked.steps()), NOW);
    }

    private static WorkflowRules.Plan report(Workflow w, String key, Address who, WorkflowRules.Outcome outcome,
                                             Instant at) {
        WorkflowRules.Decision d = WorkflowRules.report(w, key, who, outcome, null, at, ONE_PERCENT);
        assertThat(d.refused()).as(String.valueOf(d.refusal())).isFalse();
        return d.plan();
    }

    @Test
    void refuses_bad_dags_with_their_codes() {
        WorkflowMode f = WorkflowMode.FLEXIBLE;
        assertThat(problem(draft(f, SplitKind.EQUAL, 300))).isEqualTo("WORKFLOW_EMPTY");
        List<WorkflowDraft.StepDraft> many = new ArrayList<>();
        for (int i = 0; i < 17; i++) {
            many.add(step("s" + i, A));
        }
        assertThat(problem(new WorkflowDraft(TOKEN, f, SplitKind.EQUAL, BigInteger.valueOf(1000), null, 100, null, many)))
                .isEqualTo("WORKFLOW_TOO_LARGE");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, step("a", A), step("a", B)))).isEqualTo("WORKFLOW_DUPLICATE_STEP");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, step("a", A, "x")))).isEqualTo("WORKFLOW_UNKNOWN_DEPENDENCY");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, step("a", A, "a")))).isEqualTo("WORKFLOW_SELF_DEPENDENCY");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, step("a", A, "c"), step("b", B, "a"), step("c", C, "b"))))
                .isEqualTo("WORKFLOW_CYCLE");
        assertThat(problem(draft(f, SplitKind.EXECUTION_TIME, 300, step("a", A)))).isEqualTo("WORKFLOW_SPLIT_NOT_ALLOWED");
        assertThat(problem(draft(f, SplitKind.EQUAL, 1, step("a", A), step("b", B)))).isEqualTo("WORKFLOW_AMOUNT_TOO_SMALL");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, step("a", PAYER)))).isEqualTo("WORKFLOW_AGENT_IS_PAYER");
        WorkflowDraft.StepDraft weighted = new WorkflowDraft.StepDraft("a", A, "work", NOW.plusSeconds(60), List.of(),
                BigInteger.valueOf(9_999), null);
        assertThat(problem(draft(f, SplitKind.WEIGHTS, 300, weighted))).isEqualTo("WORKFLOW_WEIGHTS_MISMATCH");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, weighted))).isEqualTo("WORKFLOW_WEIGHTS_MISMATCH");
        WorkflowDraft.StepDraft late = new WorkflowDraft.StepDraft("a", A, "work", NOW.minusSeconds(1), List.of(), null,
                null);
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, late))).isEqualTo("WORKFLOW_DEADLINE_PASSED");
        BigInteger max = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);
        assertThat(problem(draft(f, SplitKind.PRICES, 0, new WorkflowDraft.StepDraft("a", A, "work", NOW.plusSeconds(60),
                List.of(), null, max), new WorkflowDraft.StepDraft("b", B, "work", NOW.plusSeconds(60), List.of(), null,
                BigInteger.ONE)))).isEqualTo("WORKFLOW_AMOUNT_TOO_LARGE");
        assertThat(problem(draft(f, SplitKind.EQUAL, 300, step("a", A), step("b", B, "a"), step("c", C, "a", "b"))))
                .isNull();
    }

    @Test
    void flexible_pays_each_success_and_refunds_a_failure_with_its_dependants() {
        Workflow w = created(draft(WorkflowMode.FLEXIBLE, SplitKind.EQUAL, 1_000, step("a", A), step("b", B),
                step("c", C, "b")));
        assertThat(w.steps()).extracting(Step::state).containsExactly(StepState.RUNNING, StepState.RUNNING,
                StepState.WAITING);
        assertThat(w.steps()).extracting(Step::share).containsExactly(BigInteger.valueOf(334), BigInteger.valueOf(333),
                BigInteger.valueOf(333));
        assertThat(WorkflowRules.report(w, "c", C, WorkflowRules.Outcome.SUCCEEDED, null, NOW, ONE_PERCENT).refusal())
                .isEqualTo(WorkflowRules.Refusal.NOT_STARTED);
        assertThat(WorkflowRules.report(w, "a", B, WorkflowRules.Outcome.SUCCEEDED, null, NOW, ONE_PERCENT).refusal())
                .isEqualTo(WorkflowRules.Refusal.REPORTER_REQUIRED);
        WorkflowRules.Plan paid = report(w, "a", A, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(1));
        assertThat(paid.payouts()).containsExactly(new WorkflowRules.Payout(WorkflowRules.Payout.Kind.AGENT, 0, A,
                BigInteger.valueOf(331)), new WorkflowRules.Payout(WorkflowRules.Payout.Kind.FEE, 0, null,
                BigInteger.valueOf(3)));
        w = paid.after();
        assertThat(WorkflowRules.report(w, "a", A, WorkflowRules.Outcome.FAILED, null, NOW, ONE_PERCENT).refusal())
                .isEqualTo(WorkflowRules.Refusal.STEP_FINISHED);
        WorkflowRules.Plan failed = report(w, "b", B, WorkflowRules.Outcome.FAILED, NOW.plusSeconds(2));
        assertThat(failed.payouts()).containsExactly(
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.PAYER, 1, PAYER, BigInteger.valueOf(333)),
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.PAYER, 2, PAYER, BigInteger.valueOf(333)));
        w = failed.after();
        assertThat(w.state()).isEqualTo(WorkflowState.PARTIAL);
        assertThat(w.steps().get(2).reason()).isEqualTo("DEPENDENCY_FAILED");
        assertThat(w.held()).isZero();
    }

    @Test
    void atomic_pays_everyone_at_the_last_success_by_execution_time_or_refunds_all_on_a_failure() {
        WorkflowDraft pipeline = draft(WorkflowMode.ATOMIC, SplitKind.EXECUTION_TIME, 1_000, step("a", A),
                step("b", B, "a"), step("c", C, "b"));
        Workflow w = created(pipeline);
        w = report(w, "a", A, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(1)).after();
        w = report(w, "b", B, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(3)).after();
        assertThat(w.paid()).isZero();
        WorkflowRules.Plan last = report(w, "c", C, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(4));
        assertThat(last.after().state()).isEqualTo(WorkflowState.SUCCEEDED);
        assertThat(last.after().steps()).extracting(Step::share).containsExactly(BigInteger.valueOf(250),
                BigInteger.valueOf(500), BigInteger.valueOf(250));
        assertThat(last.payouts()).hasSize(6);
        assertThat(last.after().held()).isZero();

        Workflow again = created(pipeline);
        again = report(again, "a", A, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(1)).after();
        WorkflowRules.Plan failed = report(again, "b", B, WorkflowRules.Outcome.FAILED, NOW.plusSeconds(2));
        assertThat(failed.after().state()).isEqualTo(WorkflowState.FAILED);
        assertThat(failed.payouts()).containsExactly(new WorkflowRules.Payout(WorkflowRules.Payout.Kind.PAYER, -1, PAYER,
                BigInteger.valueOf(1_000)));
        assertThat(failed.after().steps()).extracting(Step::state).containsOnly(StepState.SUCCEEDED, StepState.FAILED);
    }

    @Test
    void a_step_past_its_deadline_fails() {
        Workflow w = created(draft(WorkflowMode.FLEXIBLE, SplitKind.EQUAL, 100, step("a", A)));
        assertThat(WorkflowRules.advance(w, NOW.plusSeconds(3600), ONE_PERCENT).isEmpty()).isTrue();
        WorkflowRules.Plan late = WorkflowRules.advance(w, NOW.plusSeconds(3601), ONE_PERCENT);
        assertThat(late.after().steps().get(0).reason()).isEqualTo("DEADLINE_PASSED");
        assertThat(late.after().refunded()).isEqualTo(BigInteger.valueOf(100));
        assertThat(late.after().state()).isEqualTo(WorkflowState.FAILED);
    }

    @Test
    void performance_pay_pays_the_scored_part_of_the_share_and_refunds_the_rest() {
        Address evaluator = Address.of("0x00000000000000000000000000000000000000e1");
        WorkflowDraft draft = new WorkflowDraft(TOKEN, WorkflowMode.FLEXIBLE, SplitKind.EQUAL, BigInteger.valueOf(30_000),
                evaluator, 100, 15_000, List.of(step("a", A), step("b", B)));
        WorkflowDraft.Checked checked = draft.check(PAYER, NOW, Duration.ofDays(30));
        Workflow w = WorkflowRules.started(new Workflow("wf_" + "0".repeat(32), PAYER, TOKEN, evaluator, draft.mode(),
                draft.split(), WorkflowState.RUNNING, checked.amount(), BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO,
                100, 0, 100, 15_000, 1, NOW, NOW, checked.steps()), NOW);
        assertThat(WorkflowRules.report(w, "a", A, WorkflowRules.Outcome.SUCCEEDED, null, null, NOW, ONE_PERCENT)
                .refusal()).isEqualTo(WorkflowRules.Refusal.EVALUATOR_REQUIRED);
        assertThat(WorkflowRules.report(w, "a", evaluator, WorkflowRules.Outcome.SUCCEEDED, null, null, NOW, ONE_PERCENT)
                .refusal()).isEqualTo(WorkflowRules.Refusal.SCORES_REQUIRED);
        assertThat(WorkflowRules.report(w, "a", A, WorkflowRules.Outcome.FAILED, null, new WorkflowRules.Scores(1, 1),
                NOW, ONE_PERCENT).refusal()).isEqualTo(WorkflowRules.Refusal.SCORES_NOT_APPLICABLE);
        // base 10,000 (15,000 held at 1.5x); quality 0.5x, speed 1.5x (well within the time), accuracy 1.0x: 7,500
        WorkflowRules.Plan scored = WorkflowRules.report(w, "a", evaluator, WorkflowRules.Outcome.SUCCEEDED, null,
                new WorkflowRules.Scores(50, 100), NOW.plusSeconds(60), ONE_PERCENT).plan();
        assertThat(scored.payouts()).containsExactly(
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.AGENT, 0, A, BigInteger.valueOf(7_425)),
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.FEE, 0, null, BigInteger.valueOf(75)),
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.PAYER, 0, PAYER, BigInteger.valueOf(7_500)));
        Step a = scored.after().steps().get(0);
        assertThat(a.quality()).isEqualTo(50);
        assertThat(a.performance()).contains("= 7500");
        assertThat(a.paid().add(a.fee()).add(a.refunded())).isEqualTo(a.share());
        assertThat(new WorkflowDraft(TOKEN, WorkflowMode.FLEXIBLE, SplitKind.EQUAL, BigInteger.TEN, null, 100, 15_000,
                List.of(step("a", A))).check(PAYER, NOW, Duration.ofDays(30)).problem())
                .isEqualTo(WorkflowDraft.Problem.EVALUATOR_MISSING);
    }

    @Test
    void a_lost_atomic_payout_is_adopted_at_the_committed_amounts_not_recomputed() {
        Workflow w = created(draft(WorkflowMode.ATOMIC, SplitKind.EXECUTION_TIME, 1_000_000, step("a", A),
                step("b", B, "a")));
        w = report(w, "a", A, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(10)).after();
        WorkflowRules.Plan lost = report(w, "b", B, WorkflowRules.Outcome.SUCCEEDED, NOW.plusSeconds(1_810));
        java.util.Map<String, BigInteger> committed = new java.util.LinkedHashMap<>();
        lost.payouts().forEach(p -> committed.put(WorkflowIds.part(p), p.amount()));
        Instant later = NOW.plusSeconds(20);
        WorkflowRules.Plan recomputed = report(w, "b", B, WorkflowRules.Outcome.SUCCEEDED, later);
        assertThat(recomputed.payouts()).isNotEqualTo(lost.payouts());

        WorkflowRules.Plan adopted = WorkflowRules.adopted(w, committed, later, ONE_PERCENT);
        assertThat(adopted.after().state()).isEqualTo(WorkflowState.SUCCEEDED);
        assertThat(adopted.payouts()).containsExactlyInAnyOrderElementsOf(lost.payouts());
        assertThat(adopted.after().held()).isZero();
        assertThat(adopted.after().paid()).isEqualTo(lost.after().paid());
        assertThat(adopted.after().fees()).isEqualTo(lost.after().fees());
        for (int i = 0; i < 2; i++) {
            Step got = adopted.after().steps().get(i);
            Step want = lost.after().steps().get(i);
            assertThat(List.of(got.share(), got.paid(), got.fee(), got.refunded()))
                    .isEqualTo(List.of(want.share(), want.paid(), want.fee(), want.refunded()));
        }
        assertThat(adopted.changed()).extracting(Step::key).containsExactly("b");
        assertThat(WorkflowRules.adopted(w, java.util.Map.of(), later, ONE_PERCENT).isEmpty()).isTrue();
    }
}
