package dev.agentescrow.backend.workflow;

import static dev.agentescrow.backend.workflow.WorkflowRulesTest.A;
import static dev.agentescrow.backend.workflow.WorkflowRulesTest.B;
import static dev.agentescrow.backend.workflow.WorkflowRulesTest.C;
import static dev.agentescrow.backend.workflow.WorkflowRulesTest.NOW;
import static dev.agentescrow.backend.workflow.WorkflowRulesTest.ONE_PERCENT;
import static dev.agentescrow.backend.workflow.WorkflowRulesTest.PAYER;
import static dev.agentescrow.backend.workflow.WorkflowRulesTest.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.market.ReverseVickreyAuction;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Steps allocated by the marketplace's auction, as pure decisions: the draft's checks and how the
 * splits treat an auctioned step, the close (allocation, or none without a bid), the surplus refund
 * and the failure without a bid in the next change, a lost surplus adopted, and the property that
 * no base unit is lost or created over random workflows, bids and outcomes.
 */
class WorkflowAuctionRulesTest {
    private static WorkflowDraft.StepDraft named(String key, Address agent, BigInteger weight, BigInteger price,
                                                 String... deps) {
        return new WorkflowDraft.StepDraft(key, agent, "work", NOW.plusSeconds(3600), List.of(deps), weight, price);
    }

    private static WorkflowDraft.StepDraft auctioned(String key, long budget, String... deps) {
        return new WorkflowDraft.StepDraft(key, null, "work", NOW.plusSeconds(3600), List.of(deps), null, null,
                BigInteger.valueOf(budget), NOW.plusSeconds(60));
    }

    private static WorkflowDraft draft(WorkflowMode mode, SplitKind split, Long amount, Integer maxMultiplierBps,
                                       WorkflowDraft.StepDraft... steps) {
        return new WorkflowDraft(TOKEN, mode, split, amount == null ? null : BigInteger.valueOf(amount),
                maxMultiplierBps == null ? null : C, 100, maxMultiplierBps, List.of(steps));
    }

    private static WorkflowDraft.Checked check(WorkflowDraft draft) {
        return draft.check(PAYER, NOW, Duration.ofDays(30));
    }

    private static String problem(WorkflowDraft draft) {
        WorkflowDraft.Checked checked = check(draft);
        return checked.ok() ? null : checked.problem().code();
    }

    private static Workflow created(WorkflowDraft draft) {
        WorkflowDraft.Checked checked = check(draft);
        assertThat(checked.ok()).as(String.valueOf(checked.problem())).isTrue();
        return WorkflowRules.started(new Workflow("wf_" + "0".repeat(32), PAYER, TOKEN, draft.evaluator(), draft.mode(),
                draft.split(), WorkflowState.RUNNING, checked.amount(), BigInteger.ZERO, BigInteger.ZERO,
                BigInteger.ZERO, 100, 0, 100, draft.maxMultiplierBps(), 1, NOW, NOW, checked.steps()), NOW);
    }

    private static BigInteger big(long v) {
        return BigInteger.valueOf(v);
    }

    private static ReverseVickreyAuction.Allocation allocation(BigInteger max, Object... bids) {
        List<ReverseVickreyAuction.Bid> sealed = new ArrayList<>();
        for (int i = 0; i < bids.length; i += 2) {
            sealed.add(new ReverseVickreyAuction.Bid(((Address) bids[i]).hex(), big((Integer) bids[i + 1]), 0, i));
        }
        return ReverseVickreyAuction.allocate(sealed, max).orElse(null);
    }

    @Test
    void a_step_names_its_agent_or_gives_a_budget_and_a_window_before_its_deadline() {
        WorkflowMode f = WorkflowMode.FLEXIBLE;
        WorkflowDraft.StepDraft both = new WorkflowDraft.StepDraft("x", A, "work", NOW.plusSeconds(3600), List.of(),
                null, null, big(100), NOW.plusSeconds(60));
        assertThat(problem(draft(f, SplitKind.EQUAL, 100L, null, both))).isEqualTo("WORKFLOW_AUCTION_MISMATCH");
        WorkflowDraft.StepDraft noWindow = new WorkflowDraft.StepDraft("x", null, "work", NOW.plusSeconds(3600),
                List.of(), null, null, big(100), null);
        assertThat(problem(draft(f, SplitKind.EQUAL, null, null, noWindow))).isEqualTo("WORKFLOW_AUCTION_MISMATCH");
        WorkflowDraft.StepDraft priced = new WorkflowDraft.StepDraft("x", null, "work", NOW.plusSeconds(3600),
                List.of(), null, big(5), big(100), NOW.plusSeconds(60));
        assertThat(problem(draft(f, SplitKind.PRICES, null, null, priced))).isEqualTo("WORKFLOW_AUCTION_MISMATCH");
        WorkflowDraft.StepDraft late = new WorkflowDraft.StepDraft("x", null, "work", NOW.plusSeconds(60), List.of(),
                null, null, big(100), NOW.plusSeconds(60));
        assertThat(problem(draft(f, SplitKind.EQUAL, null, null, late))).isEqualTo("WORKFLOW_BIDDING_WINDOW");
        WorkflowDraft.StepDraft past = new WorkflowDraft.StepDraft("x", null, "work", NOW.plusSeconds(600), List.of(),
                null, null, big(100), NOW);
        assertThat(problem(draft(f, SplitKind.EQUAL, null, null, past))).isEqualTo("WORKFLOW_BIDDING_WINDOW");
        assertThat(problem(draft(f, SplitKind.EQUAL, null, 15_000, auctioned("x", 1)))).isEqualTo("WORKFLOW_BUDGET_TOO_SMALL");
        assertThat(problem(draft(f, SplitKind.EQUAL, 99L, null, auctioned("x", 100)))).isEqualTo("WORKFLOW_AUCTION_MISMATCH");
        assertThat(problem(draft(f, SplitKind.EQUAL, 100L, null, auctioned("x", 100), named("y", A, null, null))))
                .isEqualTo("WORKFLOW_AMOUNT_TOO_SMALL");
        assertThat(problem(draft(f, SplitKind.EQUAL, null, null, auctioned("x", 100), named("y", A, null, null))))
                .isEqualTo("WORKFLOW_AMOUNT_REQUIRED");
        assertThat(problem(draft(f, SplitKind.PRICES, 1_000L, null, auctioned("x", 100), named("y", A, null, big(500)))))
                .isEqualTo("WORKFLOW_PRICES_MISMATCH");
        assertThat(problem(draft(f, SplitKind.WEIGHTS, 1_000L, null, auctioned("x", 100),
                named("y", A, big(5_000), null)))).isEqualTo("WORKFLOW_WEIGHTS_MISMATCH");
        WorkflowDraft.StepDraft payerNamed = named("y", PAYER, null, null);
        assertThat(problem(draft(f, SplitKind.EQUAL, 1_000L, null, auctioned("x", 100), payerNamed)))
                .isEqualTo("WORKFLOW_AGENT_IS_PAYER");
    }

    @Test
    void the_splits_divide_the_amount_less_the_budgets_among_the_named_steps() {
        WorkflowMode f = WorkflowMode.FLEXIBLE;
        Workflow equal = created(draft(f, SplitKind.EQUAL, 1_000L, null, named("a", A, null, null), auctioned("x", 400),
                named("b", B, null, null)));
        assertThat(equal.amount()).isEqualTo(big(1_000));
        assertThat(equal.splitTotal()).isEqualTo(big(600));
        assertThat(equal.steps().stream().map(Step::share).toList()).containsExactly(big(300), big(400), big(300));
        assertThat(equal.steps().get(1).agent()).isNull();
        assertThat(equal.steps().get(1).auction().maxBasePrice()).isEqualTo(big(400));

        Workflow prices = created(draft(f, SplitKind.PRICES, null, null, named("a", A, null, big(250)),
                auctioned("x", 400)));
        assertThat(prices.amount()).isEqualTo(big(650));
        assertThat(prices.steps().stream().map(Step::share).toList()).containsExactly(big(250), big(400));

        Workflow weights = created(draft(f, SplitKind.WEIGHTS, 1_400L, null, named("a", A, big(7_500), null),
                auctioned("x", 400), named("b", B, big(2_500), null)));
        assertThat(weights.steps().stream().map(Step::share).toList()).containsExactly(big(750), big(400), big(250));

        Workflow alone = created(draft(f, SplitKind.EQUAL, null, null, auctioned("x", 400), auctioned("y", 100)));
        assertThat(alone.amount()).isEqualTo(big(500));

        Workflow performance = created(draft(f, SplitKind.EQUAL, null, 15_000, auctioned("x", 1_000)));
        assertThat(performance.steps().getFirst().auction().maxBasePrice()).isEqualTo(big(666));
    }

    @Test
    void the_allocation_fixes_agent_and_price_and_the_next_change_refunds_the_surplus() {
        Workflow w = created(draft(WorkflowMode.FLEXIBLE, SplitKind.PRICES, null, null, named("a", A, null, big(500)),
                auctioned("x", 1_000, "a")));
        Step x = w.steps().get(1);
        assertThat(x.state()).isEqualTo(StepState.WAITING);
        assertThat(w.dueAt()).isEqualTo(NOW.plusSeconds(60));
        assertThat(w.auctionsDue(NOW.plusSeconds(59))).isEmpty();
        Instant closes = NOW.plusSeconds(60);
        assertThat(w.auctionsDue(closes)).hasSize(1);

        // a succeeds before the window closes: x still waits for its allocation
        WorkflowRules.Plan aDone = WorkflowRules.report(w, "a", A, WorkflowRules.Outcome.SUCCEEDED, null, NOW.plusSeconds(10),
                ONE_PERCENT).plan();
        assertThat(aDone.after().steps().get(1).state()).isEqualTo(StepState.WAITING);
        assertThat(WorkflowRules.report(aDone.after(), "x", B, WorkflowRules.Outcome.SUCCEEDED, null,
                NOW.plusSeconds(11), ONE_PERCENT).refusal()).isEqualTo(WorkflowRules.Refusal.REPORTER_REQUIRED);

        Workflow closed = WorkflowRules.closeAuction(aDone.after(), 1, allocation(big(1_000), B, 300, C, 450, A, 700), 3,
                closes);
        Step won = closed.steps().get(1);
        assertThat(won.agent()).isEqualTo(B);
        assertThat(won.share()).isEqualTo(big(450));
        assertThat(won.auction().price()).isEqualTo(big(450));
        assertThat(won.auction().bids()).isEqualTo(3);
        assertThat(won.auction().surplus()).isNull();
        assertThat(closed.held()).isEqualTo(big(1_000));
        assertThat(closed.dueAt()).isEqualTo(closes);

        WorkflowRules.Plan next = WorkflowRules.advance(closed, closes.plusMillis(5), ONE_PERCENT);
        assertThat(next.payouts()).containsExactly(new WorkflowRules.Payout(WorkflowRules.Payout.Kind.SURPLUS, 1, PAYER,
                big(550)));
        Step running = next.after().steps().get(1);
        assertThat(running.state()).isEqualTo(StepState.RUNNING);
        assertThat(running.auction().surplus()).isEqualTo(big(550));
        assertThat(next.after().held()).isEqualTo(big(450));
        assertThat(WorkflowRules.advance(next.after(), closes.plusMillis(6), ONE_PERCENT).payouts()).isEmpty();

        WorkflowRules.Plan paid = WorkflowRules.report(next.after(), "x", B, WorkflowRules.Outcome.SUCCEEDED, null,
                closes.plusSeconds(1), ONE_PERCENT).plan();
        assertThat(paid.after().state()).isEqualTo(WorkflowState.SUCCEEDED);
        assertThat(paid.after().held()).isZero();
        assertThat(paid.after().refunded()).isEqualTo(big(550));
        assertThat(paid.after().paid().add(paid.after().fees())).isEqualTo(big(950));
    }

    @Test
    void without_a_bid_the_step_fails_its_dependants_fail_and_atomic_refunds_everything() {
        Workflow flexible = created(draft(WorkflowMode.FLEXIBLE, SplitKind.PRICES, null, null, auctioned("x", 1_000),
                named("y", A, null, big(500), "x"), named("z", B, null, big(200))));
        Instant closes = NOW.plusSeconds(60);
        Workflow unsold = WorkflowRules.closeAuction(flexible, 0, null, 0, closes);
        assertThat(unsold.steps().getFirst().auction().state()).isEqualTo("NO_BIDS");
        WorkflowRules.Plan failed = WorkflowRules.advance(unsold, closes, ONE_PERCENT);
        assertThat(failed.after().steps().get(0).reason()).isEqualTo("NO_BIDS");
        assertThat(failed.after().steps().get(1).reason()).isEqualTo("DEPENDENCY_FAILED");
        assertThat(failed.after().steps().get(2).state()).isEqualTo(StepState.RUNNING);
        assertThat(failed.after().refunded()).isEqualTo(big(1_500));
        assertThat(failed.after().held()).isEqualTo(big(200));

        Workflow atomic = created(draft(WorkflowMode.ATOMIC, SplitKind.PRICES, null, null, auctioned("x", 1_000),
                named("z", B, null, big(200))));
        WorkflowRules.Plan all = WorkflowRules.advance(WorkflowRules.closeAuction(atomic, 0, null, 0, closes), closes, ONE_PERCENT);
        assertThat(all.after().state()).isEqualTo(WorkflowState.FAILED);
        assertThat(all.payouts()).containsExactly(new WorkflowRules.Payout(WorkflowRules.Payout.Kind.PAYER, -1, PAYER,
                big(1_200)));
    }

    @Test
    void an_atomic_failure_after_an_allocation_refunds_the_surplus_and_the_rest_once() {
        Workflow atomic = created(draft(WorkflowMode.ATOMIC, SplitKind.PRICES, null, null, auctioned("x", 1_000),
                named("z", B, null, big(200))));
        Instant closes = NOW.plusSeconds(60);
        Workflow won = WorkflowRules.closeAuction(atomic, 0, allocation(big(1_000), A, 400, C, 600), 2, closes);
        // z fails in the change that also settles the allocation: surplus 400 and the rest 800, no more
        WorkflowRules.Plan failed = WorkflowRules.report(won, "z", B, WorkflowRules.Outcome.FAILED, null, closes, ONE_PERCENT)
                .plan();
        assertThat(failed.payouts()).containsExactly(
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.SURPLUS, 0, PAYER, big(400)),
                new WorkflowRules.Payout(WorkflowRules.Payout.Kind.PAYER, -1, PAYER, big(800)));
        assertThat(failed.after().held()).isZero();
        assertThat(failed.after().refunded()).isEqualTo(big(1_200));
    }

    @Test
    void performance_pay_holds_the_price_times_the_multiplier_and_pays_from_the_clearing_price() {
        Workflow w = created(draft(WorkflowMode.FLEXIBLE, SplitKind.EQUAL, null, 15_000, auctioned("x", 1_500)));
        Instant closes = NOW.plusSeconds(60);
        Workflow won = WorkflowRules.closeAuction(w, 0, allocation(big(1_000), A, 300), 1, closes);
        assertThat(won.steps().getFirst().auction().price()).isEqualTo(big(1_000));
        assertThat(won.steps().getFirst().auction().reserveApplied()).isTrue();
        assertThat(won.steps().getFirst().share()).isEqualTo(big(1_500));
        WorkflowRules.Plan next = WorkflowRules.advance(won, closes, ONE_PERCENT);
        assertThat(next.payouts()).isEmpty();
        assertThat(next.after().steps().getFirst().auction().surplus()).isZero();
        WorkflowRules.Plan paid = WorkflowRules.report(next.after(), "x", C, WorkflowRules.Outcome.SUCCEEDED, null,
                new WorkflowRules.Scores(100, 100), closes.plusSeconds(1), ONE_PERCENT).plan();
        assertThat(paid.after().steps().getFirst().performance()).startsWith("floor(1000 * ");
        assertThat(paid.after().held()).isZero();
    }

    @Test
    void an_allocation_with_no_surplus_whose_step_waits_is_still_a_change_to_record() {
        // a single bid is paid the budget: surplus 0; the step waits for y: no payout, no state change,
        // yet the next change records the surplus (else the workflow stays due at the close for ever)
        Workflow w = created(draft(WorkflowMode.FLEXIBLE, SplitKind.PRICES, null, null, named("y", B, null, big(200)),
                auctioned("x", 1_000, "y")));
        Instant closes = NOW.plusSeconds(60);
        Workflow won = WorkflowRules.closeAuction(w, 1, allocation(big(1_000), A, 300), 1, closes);
        assertThat(won.dueAt()).isEqualTo(closes);
        WorkflowRules.Plan next = WorkflowRules.advance(won, closes.plusMillis(5), ONE_PERCENT);
        assertThat(next.payouts()).isEmpty();
        assertThat(next.isEmpty()).isFalse();
        assertThat(next.after().steps().get(1).state()).isEqualTo(StepState.WAITING);
        assertThat(next.after().steps().get(1).auction().surplus()).isZero();
        assertThat(next.after().dueAt()).isEqualTo(NOW.plusSeconds(3600));
        assertThat(WorkflowRules.advance(next.after(), closes.plusMillis(6), ONE_PERCENT).isEmpty()).isTrue();
    }

    @Test
    void a_lost_surplus_refund_is_adopted_as_the_ledger_committed_it() {
        Workflow w = created(draft(WorkflowMode.FLEXIBLE, SplitKind.PRICES, null, null, auctioned("x", 1_000),
                named("y", B, null, big(200))));
        Instant closes = NOW.plusSeconds(60);
        Workflow won = WorkflowRules.closeAuction(w, 0, allocation(big(1_000), A, 400, C, 600), 2, closes);
        WorkflowRules.Plan lost = WorkflowRules.advance(won, closes, ONE_PERCENT);
        WorkflowRules.Plan adopted = WorkflowRules.adopted(won, Map.of("surplus:0", big(400)), closes.plusSeconds(1),
                ONE_PERCENT);
        assertThat(adopted.payouts()).isEqualTo(lost.payouts());
        assertThat(adopted.after().held()).isEqualTo(lost.after().held());
        assertThat(adopted.after().steps().getFirst().auction().surplus()).isEqualTo(big(400));
        assertThat(adopted.after().steps().getFirst().state()).isEqualTo(StepState.RUNNING);
        assertThat(WorkflowRules.advance(adopted.after(), closes.plusSeconds(2), ONE_PERCENT).payouts()).isEmpty();
    }

    /**
     * Random workflows (named and auctioned steps, both modes, every split but EXECUTION_TIME in
     * FLEXIBLE, with and without performance pay), random bids, closes, reports and deadlines: after
     * every change the payouts equal what the workflow's account gives up, nothing is held negative,
     * and at the end paid + fees + refunded equals the amount exactly.
     */
    @Test
    void no_base_unit_is_lost_or_created_over_random_auctioned_workflows() {
        long seed = Long.getLong("auctions.seed", System.nanoTime());
        Random random = new Random(seed);
        Address[] agents = {A, B, C};
        int created = 0;
        int allocated = 0;
        int finishedWithPayouts = 0;
        for (int round = 0; round < 3_000; round++) {
            String at = "seed " + seed + ", round " + round;
            WorkflowMode mode = random.nextBoolean() ? WorkflowMode.FLEXIBLE : WorkflowMode.ATOMIC;
            SplitKind split = SplitKind.values()[random.nextInt(mode == WorkflowMode.ATOMIC ? 4 : 3)];
            Integer multiplier = random.nextInt(3) == 0 ? 10_000 + random.nextInt(35_001) : null;
            int n = 1 + random.nextInt(6);
            List<WorkflowDraft.StepDraft> steps = new ArrayList<>();
            int named = 0;
            for (int i = 0; i < n; i++) {
                String[] deps = i > 0 && random.nextBoolean() ? new String[] {"s" + random.nextInt(i)} : new String[0];
                if (random.nextBoolean()) {
                    steps.add(auctioned("s" + i, 50 + random.nextInt(5_000), deps));
                } else {
                    named++;
                    steps.add(named("s" + i, agents[random.nextInt(3)], null,
                            split == SplitKind.PRICES ? big(1 + random.nextInt(5_000)) : null, deps));
                }
            }
            if (split == SplitKind.WEIGHTS) {
                int left = 10_000;
                int seen = 0;
                for (int i = 0; i < n; i++) {
                    WorkflowDraft.StepDraft s = steps.get(i);
                    if (!s.auctioned()) {
                        seen++;
                        int weight = seen == named ? left : random.nextInt(left + 1);
                        left -= weight;
                        steps.set(i, named(s.key(), s.agent(), big(weight), null, s.dependsOn().toArray(String[]::new)));
                    }
                }
            }
            long budgets = steps.stream().filter(WorkflowDraft.StepDraft::auctioned)
                    .mapToLong(s -> s.budget().longValue()).sum();
            Long amount = split == SplitKind.PRICES ? null : named == 0 ? null
                    : budgets + named * (1 + random.nextInt(10_000)) + random.nextInt(10);
            WorkflowDraft draft = new WorkflowDraft(TOKEN, mode, split, amount == null ? null : big(amount),
                    multiplier == null && random.nextBoolean() ? null : C, 100, multiplier, steps);
            WorkflowDraft.Checked checked = check(draft);
            if (!checked.ok()) {
                continue; // e.g. a zero weight or a budget below one base price: refused, nothing held
            }
            Workflow w = created(draft);
            created++;
            Instant now = NOW;
            for (int move = 0; move < 40 && w.state() == WorkflowState.RUNNING; move++) {
                now = now.plusSeconds(1 + random.nextInt(40));
                List<Step> due = w.auctionsDue(now);
                if (!due.isEmpty() && random.nextInt(4) > 0) {
                    for (Step s : due) {
                        int count = random.nextInt(4);
                        List<ReverseVickreyAuction.Bid> bids = new ArrayList<>();
                        for (int k = 0; k < count; k++) {
                            bids.add(new ReverseVickreyAuction.Bid(agents[k].hex(), big(1).add(
                                    new BigInteger(s.auction().maxBasePrice().bitLength(), random)
                                            .mod(s.auction().maxBasePrice())), random.nextInt(1_001), k));
                        }
                        w = WorkflowRules.closeAuction(w, s.index(), ReverseVickreyAuction.allocate(bids,
                                s.auction().maxBasePrice()).orElse(null), count, now);
                        allocated += count > 0 ? 1 : 0;
                    }
                    continue;
                }
                WorkflowRules.Plan plan;
                List<Step> running = w.steps().stream().filter(s -> s.state() == StepState.RUNNING).toList();
                if (!running.isEmpty() && random.nextInt(3) > 0) {
                    Step s = running.get(random.nextInt(running.size()));
                    boolean ok = random.nextInt(4) > 0;
                    Address reporter = w.performancePay() && ok ? w.evaluator() : s.agent();
                    WorkflowRules.Decision d = WorkflowRules.report(w, s.key(), reporter,
                            ok ? WorkflowRules.Outcome.SUCCEEDED : WorkflowRules.Outcome.FAILED, null,
                            w.performancePay() && ok ? new WorkflowRules.Scores(random.nextInt(201), random.nextInt(151))
                                    : null, now, ONE_PERCENT);
                    assertThat(d.refused()).as(at + ": " + d.refusal()).isFalse();
                    plan = d.plan();
                } else {
                    plan = WorkflowRules.advance(w, now.plusSeconds(random.nextInt(4_000)), ONE_PERCENT);
                }
                BigInteger out = plan.payouts().stream().map(WorkflowRules.Payout::amount)
                        .reduce(BigInteger.ZERO, BigInteger::add);
                assertThat(w.held().subtract(plan.after().held())).as(at).isEqualTo(out);
                assertThat(plan.after().held().signum()).as(at).isGreaterThanOrEqualTo(0);
                assertThat(plan.payouts()).as(at).allMatch(p -> p.amount().signum() > 0);
                w = plan.after();
            }
            if (w.state() == WorkflowState.RUNNING) {
                now = now.plusSeconds(10_000);
                for (Step s : w.auctionsDue(now)) {
                    w = WorkflowRules.closeAuction(w, s.index(), null, 0, now);
                }
                WorkflowRules.Plan last = WorkflowRules.advance(w, now, ONE_PERCENT);
                assertThat(w.held().subtract(last.after().held())).as(at).isEqualTo(last.payouts().stream()
                        .map(WorkflowRules.Payout::amount).reduce(BigInteger.ZERO, BigInteger::add));
                w = last.after();
            }
            assertThat(w.state()).as(at).isNotEqualTo(WorkflowState.RUNNING);
            assertThat(w.held()).as(at).isZero();
            assertThat(w.paid().add(w.fees()).add(w.refunded())).as(at).isEqualTo(w.amount());
            finishedWithPayouts += w.paid().signum() > 0 ? 1 : 0;
            for (Step s : w.steps()) {
                BigInteger surplus = s.auctioned() && s.auction().surplus() != null ? s.auction().surplus()
                        : BigInteger.ZERO;
                if (s.share() != null) {
                    assertThat(s.paid().add(s.fee()).add(s.refunded())).as(at + " " + s).isEqualTo(s.share());
                }
                if (s.auctioned()) {
                    assertThat(s.share().add(surplus)).as(at + " " + s).isEqualTo(s.auction().budget());
                }
            }
        }
        assertThat(created).as("seed " + seed).isGreaterThan(1_000);
        assertThat(allocated).as("seed " + seed).isGreaterThan(500);
        assertThat(finishedWithPayouts).as("seed " + seed).isGreaterThan(300);
    }
}
