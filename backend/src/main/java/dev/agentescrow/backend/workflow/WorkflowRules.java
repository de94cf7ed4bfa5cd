package dev.agentescrow.backend.workflow;

import dev.agentescrow.backend.fee.FeeSplit;
import dev.agentescrow.backend.market.PerformancePay;
import dev.agentescrow.backend.market.ReverseVickreyAuction;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A workflow's state machine as pure decisions: given a workflow, the time and (for a report) who
 * reports what, either a {@link Refusal} or a {@link Plan} (the workflow after it and the ledger
 * payouts it makes). Nothing here reads a clock or the database.
 *
 * <p>After every change the workflow is <b>settled</b>: a WAITING step with a FAILED dependency
 * fails (DEPENDENCY_FAILED); in ATOMIC mode any failure fails every step not final
 * (WORKFLOW_FAILED); a WAITING step whose dependencies all SUCCEEDED starts (RUNNING, its start
 * time the measured execution's start). Then the money: FLEXIBLE pays each newly SUCCEEDED step
 * its share (less the fee) and refunds each newly FAILED step's share; ATOMIC pays every step at
 * once when the last one succeeds (EXECUTION_TIME shares computed then) or refunds all that is
 * held on the first failure.
 */
public final class WorkflowRules {
    /** The actor of the service's own moves (deadline, a dependency's failure). */
    public static final String SERVICE = "service";

    private WorkflowRules() {
    }

    /** The outcome a step's agent or the evaluator reports. */
    public enum Outcome { SUCCEEDED, FAILED }

    /** The evaluator's scores of a success under performance pay (see {@code market.PerformancePay}). */
    public record Scores(int quality, int accuracy) {
    }

    /** Why a report does not apply; each has a stable code and an HTTP status. */
    public enum Refusal {
        STEP_NOT_FOUND(404, "WORKFLOW_STEP_NOT_FOUND", "the workflow has no step with this key"),
        REPORTER_REQUIRED(403, "WORKFLOW_REPORTER_REQUIRED", "only the step's agent or the workflow's evaluator reports"),
        NOT_STARTED(409, "WORKFLOW_STEP_NOT_STARTED", "the step waits for its dependencies: it has not started"),
        STEP_FINISHED(409, "WORKFLOW_STEP_FINISHED", "the step is finished already (reported, failed by its"
                + " deadline or by a dependency)"),
        EVALUATOR_REQUIRED(403, "WORKFLOW_EVALUATOR_REQUIRED", "with performance pay only the workflow's evaluator"
                + " reports a success, with its scores"),
        SCORES_REQUIRED(422, "WORKFLOW_SCORES_REQUIRED", "with performance pay a success carries scores (quality"
                + " 0-200, accuracy 0-150)"),
        SCORES_NOT_APPLICABLE(422, "WORKFLOW_SCORES_NOT_APPLICABLE", "scores apply to a success of a workflow with"
                + " performance pay only");

        private final int status;
        private final String code;
        private final String message;

        Refusal(int status, String code, String message) {
            this.status = status;
            this.code = code;
            this.message = message;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }

        public String message() {
            return message;
        }
    }

    /**
     * A payout out of the workflow's account: to a step's agent (net), its fee, or back to the payer
     * ({@code index} -1: all of it).
     */
    public record Payout(Kind kind, int index, Address to, BigInteger amount) {
        /** SURPLUS: an auctioned step's budget above its cost, back to the payer after the allocation. */
        public enum Kind { AGENT, FEE, PROTOCOL_FEE, PAYER, SURPLUS }
    }

    /**
     * What a change does: the workflow after it, its payouts, and the steps it changed (after): their
     * state, or an allocated auction's surplus recorded (0 too: the schedule looks at the workflow
     * again until that is written).
     */
    public record Plan(Workflow after, List<Payout> payouts, List<Step> changed) {
        public boolean isEmpty() {
            return payouts.isEmpty() && changed.isEmpty();
        }
    }

    /** Either a plan or a refusal. */
    public record Decision(Plan plan, Refusal refusal) {
        public boolean refused() {
            return refusal != null;
        }
    }

    /**
     * A gross payout split into the agent's net, the platform fee and the protocol fee at the
     * workflow's rates: the seam where the fee rule is applied ({@link WorkflowMoney#fee}).
     */
    @FunctionalInterface
    public interface Fees {
        FeeSplit of(BigInteger gross, Workflow w);
    }

    /** A new workflow, settled: the steps without dependencies start. */
    public static Workflow started(Workflow created, Instant now) {
        Workflow a = settle(created, new ArrayList<>(created.steps()), now, (g, x) -> new FeeSplit(g, BigInteger.ZERO, BigInteger.ZERO)).after();
        return new Workflow(a.id(), a.payer(), a.token(), a.evaluator(), a.mode(), a.split(), a.state(), a.amount(),
                a.paid(), a.fees(), a.refunded(), a.feeBps(), a.protocolFeeBps(), a.maxFeeBps(), a.maxMultiplierBps(), created.version(),
                created.createdAt(), created.updatedAt(), a.steps());
    }

    /**
     * The workflow with the outcomes found in the ledger but not in its rows (a crash between the
     * ledger's commit and the service's): each step in {@code succeeded} SUCCEEDED, each in
     * {@code failed} FAILED, {@code allRefunded} every step not final FAILED; then settled, so that
     * the payouts repeat under the same ids (the ledger answers EXISTS: paid once).
     */
    public static Plan recovered(Workflow w, Set<Integer> succeeded, Set<Integer> failed,
                                 boolean allRefunded, Instant now, Fees fees) {
        List<Step> steps = new ArrayList<>(w.steps());
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (s.state().isFinal()) {
                continue;
            }
            if (succeeded.contains(i)) {
                steps.set(i, s.finished(StepState.SUCCEEDED, now, "recovery", "RECOVERED"));
            } else if (failed.contains(i) || allRefunded) {
                steps.set(i, s.finished(StepState.FAILED, now, "recovery", "RECOVERED"));
            }
        }
        return settle(w, steps, now, fees);
    }

    /**
     * The workflow with the payouts the ledger committed but its rows lack (a crash between the
     * ledger's commit and the service's) <b>adopted as committed</b>: {@code lost} maps each such
     * part ({@code agent:<i>}, {@code fee:<i>}, {@code protocol_fee:<i>}, {@code payer:<i>},
     * {@code payer:all}) to its committed amount. The states follow the parts: a step not final
     * with an agent or fee part SUCCEEDED (in ATOMIC mode every step not final, as an atomic payout
     * pays all at once), with only its refund FAILED, every step not final FAILED on
     * {@code payer:all}; then the workflow is settled. The money is not recomputed, because an
     * EXECUTION_TIME share and a performance payout depend on the time of the lost success (and on
     * its scores): each step's paid, fee and refund add the committed amounts, an EXECUTION_TIME
     * share is what its parts add up to, and the plan's payouts are the committed transfers (the
     * caller records them; nothing new is paid). Without any lost part the plan is empty.
     */
    public static Plan adopted(Workflow w, Map<String, BigInteger> lost, Instant now, Fees fees) {
        if (lost.isEmpty()) {
            return new Plan(w, List.of(), List.of());
        }
        boolean anyPaid = false;
        Set<Integer> succeeded = new HashSet<>();
        Set<Integer> failed = new HashSet<>();
        for (Step s : w.steps()) {
            int i = s.index();
            boolean paid = lost.containsKey("agent:" + i) || lost.containsKey("fee:" + i)
                    || lost.containsKey("protocol_fee:" + i);
            anyPaid |= paid;
            if (s.state().isFinal()) {
                continue;
            }
            if (paid) {
                succeeded.add(i);
            } else if (lost.containsKey("payer:" + i)) {
                failed.add(i);
            }
        }
        if (w.mode() == WorkflowMode.ATOMIC && anyPaid) {
            w.steps().stream().filter(s -> !s.state().isFinal()).forEach(s -> succeeded.add(s.index()));
        }
        Workflow settled = recovered(w, succeeded, failed, lost.containsKey("payer:all"), now, fees).after();
        boolean atomicPaid = w.mode() == WorkflowMode.ATOMIC && anyPaid;
        List<Step> steps = new ArrayList<>(settled.steps());
        List<Payout> payouts = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step before = w.steps().get(i);
            Step s = steps.get(i);
            BigInteger net = lost.getOrDefault("agent:" + i, BigInteger.ZERO);
            BigInteger platform = lost.getOrDefault("fee:" + i, BigInteger.ZERO);
            BigInteger protocol = lost.getOrDefault("protocol_fee:" + i, BigInteger.ZERO);
            BigInteger refund = lost.getOrDefault("payer:" + i, BigInteger.ZERO);
            boolean own = lost.containsKey("agent:" + i) || lost.containsKey("fee:" + i)
                    || lost.containsKey("protocol_fee:" + i) || lost.containsKey("payer:" + i);
            if (lost.containsKey("surplus:" + i)) {
                payouts.add(new Payout(Payout.Kind.SURPLUS, i, w.payer(), lost.get("surplus:" + i)));
            }
            if (!own && !atomicPaid) {
                // untouched by the lost change, or refunded by payer:all (an exact refund of what was held)
                if (!lost.containsKey("payer:all")) {
                    steps.set(i, surplus(money(s, before.share(), before, before.performance()), lost));
                } else {
                    steps.set(i, surplus(s.withAuction(before.auction()), lost));
                }
                continue;
            }
            BigInteger gross = net.add(platform).add(protocol);
            BigInteger share = w.split() == SplitKind.EXECUTION_TIME && atomicPaid ? gross.add(refund) : before.share();
            String performance = before.performance();
            if (w.performancePay() && own) {
                String note = "adopted from the ledger after a lost commit: payout " + gross + " = " + net
                        + " to the agent + " + platform.add(protocol) + " fees, refund " + refund;
                performance = note.length() > 400 ? note.substring(0, 400) : note;
            }
            steps.set(i, surplus(money(s, share, before, performance), lost).settled(net, platform.add(protocol), refund));
            if (lost.containsKey("agent:" + i)) {
                payouts.add(new Payout(Payout.Kind.AGENT, i, s.agent(), net));
            }
            if (lost.containsKey("fee:" + i)) {
                payouts.add(new Payout(Payout.Kind.FEE, i, null, platform));
            }
            if (lost.containsKey("protocol_fee:" + i)) {
                payouts.add(new Payout(Payout.Kind.PROTOCOL_FEE, i, null, protocol));
            }
            if (lost.containsKey("payer:" + i)) {
                payouts.add(new Payout(Payout.Kind.PAYER, i, w.payer(), refund));
            }
        }
        if (lost.containsKey("payer:all")) {
            payouts.add(new Payout(Payout.Kind.PAYER, -1, w.payer(), lost.get("payer:all")));
        }
        List<Step> changedSteps = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).state() != w.steps().get(i).state()) {
                changedSteps.add(steps.get(i));
            }
        }
        Workflow after = new Workflow(w.id(), w.payer(), w.token(), w.evaluator(), w.mode(), w.split(), settled.state(),
                w.amount(), w.paid().add(sum(payouts, Payout.Kind.AGENT)),
                w.fees().add(sum(payouts, Payout.Kind.FEE)).add(sum(payouts, Payout.Kind.PROTOCOL_FEE)),
                w.refunded().add(sum(payouts, Payout.Kind.PAYER)).add(sum(payouts, Payout.Kind.SURPLUS)), w.feeBps(),
                w.protocolFeeBps(), w.maxFeeBps(),
                w.maxMultiplierBps(), w.version() + 1, w.createdAt(), now, steps);
        return new Plan(after, payouts, changedSteps);
    }

    /**
     * {@code s}'s states and times with {@code before}'s money (its auction's surplus included), the
     * given share and performance arithmetic.
     */
    private static Step money(Step s, BigInteger share, Step before, String performance) {
        return new Step(s.index(), s.key(), s.agent(), s.capability(), s.deadline(), s.dependsOn(), s.weight(), share,
                s.state(), s.startedAt(), s.finishedAt(), s.reportedBy(), s.reason(), before.paid(), before.fee(),
                before.refunded(), s.quality(), s.accuracy(), performance, before.auction());
    }

    /**
     * Closes the auction of step {@code index} (its window closed): with {@code allocation} the step
     * has the winner as its agent and the clearing base price, its share becomes its cost (the
     * price, or under performance pay {@link PerformancePay#escrowFor} of it) and the rest of its
     * budget is the surplus the next {@link #advance} refunds; without (no bid) the auction is closed
     * unsold and the next {@link #advance} fails the step ({@code NO_BIDS}). Moves no money, so that
     * the ledger's part of the outcome (the surplus, or the refund) is a function of the rows alone.
     */
    public static Workflow closeAuction(Workflow w, int index, ReverseVickreyAuction.Allocation allocation,
                                        int bidCount, Instant now) {
        Step s = w.steps().get(index);
        if (s.auction() == null || s.auction().isClosed() || s.state().isFinal()) {
            throw new IllegalStateException("step " + s.key() + " of " + w.id() + " has no open auction to close");
        }
        Step closed;
        if (allocation == null) {
            closed = s.withAuction(s.auction().unsold(now));
        } else {
            BigInteger price = allocation.price();
            BigInteger cost = w.performancePay() ? PerformancePay.escrowFor(price, w.maxMultiplierBps()) : price;
            closed = s.allocated(Address.of(allocation.winner().bidder()), cost,
                    s.auction().won(now, bidCount, price, allocation.reserveApplied()));
        }
        List<Step> steps = new ArrayList<>(w.steps());
        steps.set(index, closed);
        return new Workflow(w.id(), w.payer(), w.token(), w.evaluator(), w.mode(), w.split(), w.state(), w.amount(),
                w.paid(), w.fees(), w.refunded(), w.feeBps(), w.protocolFeeBps(), w.maxFeeBps(), w.maxMultiplierBps(),
                w.version() + 1, w.createdAt(), now, steps);
    }

    /** {@code s} with its auction's surplus refund adopted when the lost change committed it ({@code surplus:<i>}). */
    private static Step surplus(Step s, Map<String, BigInteger> lost) {
        BigInteger refunded = lost.get("surplus:" + s.index());
        return refunded == null || s.auction() == null ? s : s.withAuction(s.auction().withSurplus(refunded));
    }

    /** The service's own moves due now: each step not final past its deadline fails, then the workflow is settled. */
    public static Plan advance(Workflow w, Instant now, Fees fees) {
        List<Step> steps = new ArrayList<>(w.steps());
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (!s.state().isFinal() && now.isAfter(s.deadline())) {
                steps.set(i, s.finished(StepState.FAILED, now, SERVICE, "DEADLINE_PASSED"));
            }
        }
        return settle(w, steps, now, fees);
    }

    /** {@code caller} reports step {@code key}'s outcome (on a workflow already {@link #advance advanced} to now). */
    public static Decision report(Workflow w, String key, Address caller, Outcome outcome, String reason, Instant now,
                                  Fees fees) {
        return report(w, key, caller, outcome, reason, null, now, fees);
    }

    /**
     * As {@link #report(Workflow, String, Address, Outcome, String, Instant, Fees)}, with the
     * evaluator's {@code scores} of a success when the workflow has performance pay.
     */
    public static Decision report(Workflow w, String key, Address caller, Outcome outcome, String reason, Scores scores,
                                  Instant now, Fees fees) {
        Step step = w.step(key).orElse(null);
        if (step == null) {
            return new Decision(null, Refusal.STEP_NOT_FOUND);
        }
        if (!caller.equals(step.agent()) && !caller.equals(w.evaluator())) {
            return new Decision(null, Refusal.REPORTER_REQUIRED);
        }
        if (step.state().isFinal()) {
            return new Decision(null, Refusal.STEP_FINISHED);
        }
        if (step.state() == StepState.WAITING) {
            return new Decision(null, Refusal.NOT_STARTED);
        }
        boolean success = outcome == Outcome.SUCCEEDED;
        if (scores != null && (!success || !w.performancePay())) {
            return new Decision(null, Refusal.SCORES_NOT_APPLICABLE);
        }
        if (success && w.performancePay()) {
            if (!caller.equals(w.evaluator())) {
                return new Decision(null, Refusal.EVALUATOR_REQUIRED);
            }
            if (scores == null) {
                return new Decision(null, Refusal.SCORES_REQUIRED);
            }
        }
        List<Step> steps = new ArrayList<>(w.steps());
        String why = reason == null || reason.isBlank() ? outcome.name() : reason;
        Step done = step.finished(success ? StepState.SUCCEEDED : StepState.FAILED, now, caller.hex(), why);
        steps.set(step.index(), scores == null ? done : done.scored(scores.quality(), scores.accuracy()));
        return new Decision(settle(w, steps, now, fees), null);
    }

    /** Propagates failures, starts what may start, decides the state and the money, relative to {@code before}. */
    private static Plan settle(Workflow before, List<Step> steps, Instant now, Fees fees) {
        Map<String, Integer> byKey = steps.stream().collect(Collectors.toMap(Step::key, Step::index));
        boolean changed = true;
        while (changed) {
            changed = false;
            boolean anyFailed = steps.stream().anyMatch(s -> s.state() == StepState.FAILED);
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                if (s.state().isFinal()) {
                    continue;
                }
                if (s.auction() != null && s.auction().isClosed() && !s.auction().allocated()) {
                    steps.set(i, s.finished(StepState.FAILED, now, SERVICE, "NO_BIDS"));
                    changed = true;
                    continue;
                }
                if (before.mode() == WorkflowMode.ATOMIC && anyFailed) {
                    steps.set(i, s.finished(StepState.FAILED, now, SERVICE, "WORKFLOW_FAILED"));
                    changed = true;
                    continue;
                }
                if (s.state() != StepState.WAITING) {
                    continue;
                }
                List<StepState> deps = s.dependsOn().stream().map(k -> steps.get(byKey.get(k)).state()).toList();
                if (deps.contains(StepState.FAILED)) {
                    steps.set(i, s.finished(StepState.FAILED, now, SERVICE, "DEPENDENCY_FAILED"));
                    changed = true;
                } else if (s.hasAgent() && deps.stream().allMatch(d -> d == StepState.SUCCEEDED)) {
                    steps.set(i, s.started(now));
                    changed = true;
                }
            }
        }
        WorkflowState state = stateOf(before.mode(), steps);
        List<Payout> payouts = new ArrayList<>();
        Set<Integer> surplusRecorded = new HashSet<>();
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            if (s.auction() != null && s.auction().allocated() && s.auction().surplus() == null) {
                BigInteger surplus = s.auction().budget().subtract(s.share());
                if (surplus.signum() > 0) {
                    payouts.add(new Payout(Payout.Kind.SURPLUS, i, before.payer(), surplus));
                }
                steps.set(i, s.withAuction(s.auction().withSurplus(surplus)));
                surplusRecorded.add(i);
            }
        }
        BigInteger surplusNow = sum(payouts, Payout.Kind.SURPLUS);
        if (before.mode() == WorkflowMode.FLEXIBLE) {
            for (int i = 0; i < steps.size(); i++) {
                if (before.steps().get(i).state().isFinal()) {
                    continue;
                }
                Step s = steps.get(i);
                if (s.state() == StepState.SUCCEEDED) {
                    steps.set(i, pay(before, s, fees, payouts, now));
                } else if (s.state() == StepState.FAILED && s.share().signum() > 0) {
                    payouts.add(new Payout(Payout.Kind.PAYER, i, before.payer(), s.share()));
                    steps.set(i, s.settled(BigInteger.ZERO, BigInteger.ZERO, s.share()));
                }
            }
        } else if (before.state() == WorkflowState.RUNNING && state == WorkflowState.SUCCEEDED) {
            List<Step> named = steps.stream().filter(x -> !x.auctioned()).toList();
            if (before.split() == SplitKind.EXECUTION_TIME && !named.isEmpty()) {
                List<BigInteger> weights = named.stream().map(WorkflowRules::executionMillis).toList();
                List<BigInteger> shares = Splits.largestRemainder(before.splitTotal(), weights);
                for (int k = 0; k < named.size(); k++) {
                    steps.set(named.get(k).index(), named.get(k).withShare(shares.get(k)));
                }
            }
            for (int i = 0; i < steps.size(); i++) {
                steps.set(i, pay(before, steps.get(i), fees, payouts, now));
            }
        } else if (before.state() == WorkflowState.RUNNING && state == WorkflowState.FAILED
                && before.held().subtract(surplusNow).signum() > 0) {
            payouts.add(new Payout(Payout.Kind.PAYER, -1, before.payer(), before.held().subtract(surplusNow)));
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                if (s.share() != null && s.share().signum() > 0) {
                    steps.set(i, s.settled(BigInteger.ZERO, BigInteger.ZERO, s.share()));
                }
            }
        }
        List<Step> changedSteps = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).state() != before.steps().get(i).state() || surplusRecorded.contains(i)) {
                changedSteps.add(steps.get(i));
            }
        }
        BigInteger paid = sum(payouts, Payout.Kind.AGENT);
        BigInteger fee = sum(payouts, Payout.Kind.FEE).add(sum(payouts, Payout.Kind.PROTOCOL_FEE));
        BigInteger refunded = sum(payouts, Payout.Kind.PAYER).add(surplusNow);
        boolean any = !changedSteps.isEmpty() || !payouts.isEmpty() || state != before.state();
        Workflow after = new Workflow(before.id(), before.payer(), before.token(), before.evaluator(), before.mode(),
                before.split(), state, before.amount(), before.paid().add(paid), before.fees().add(fee),
                before.refunded().add(refunded), before.feeBps(), before.protocolFeeBps(), before.maxFeeBps(), before.maxMultiplierBps(),
                any ? before.version() + 1 : before.version(), before.createdAt(), any ? now : before.updatedAt(), steps);
        return new Plan(after, payouts, changedSteps);
    }

    /**
     * The step paid its share: its agent the net, the platform the fee. With performance pay the
     * share is what is held for the step: the base price is {@code floor(share * 10,000 /
     * maxMultiplierBps)}, the gross payout {@link PerformancePay#payout} of it (quality and accuracy
     * from the evaluator, speed from the step's start, success and deadline; no reputation bonus),
     * the rest of the share back to the payer in the same group.
     */
    private static Step pay(Workflow w, Step s, Fees fees, List<Payout> payouts, Instant now) {
        BigInteger gross = s.share();
        BigInteger refund = BigInteger.ZERO;
        Step paid = s;
        if (w.performancePay()) {
            BigInteger base = s.auction() != null && s.auction().allocated() ? s.auction().price()
                    : gross.multiply(BigInteger.valueOf(PerformancePay.BPS)).divide(BigInteger.valueOf(w.maxMultiplierBps()));
            Instant finished = s.finishedAt() == null ? now : s.finishedAt();
            Duration allowed = Duration.between(s.startedAt(), s.deadline());
            PerformancePay.Breakdown breakdown = PerformancePay.payout(base, gross, w.maxMultiplierBps(),
                    new PerformancePay.Scores(s.quality() == null ? 100 : s.quality(),
                            s.accuracy() == null ? 100 : s.accuracy(), Duration.between(s.startedAt(), finished),
                            allowed.isPositive() ? allowed : Duration.ofMillis(1), 0));
            gross = breakdown.payout();
            refund = breakdown.refund();
            String arithmetic = breakdown.arithmetic();
            paid = s.withPerformance(arithmetic.length() > 400 ? arithmetic.substring(0, 400) : arithmetic);
        }
        FeeSplit split = fees.of(gross, w);
        BigInteger net = split.net();
        BigInteger fee = split.fees();
        if (net.signum() > 0) {
            payouts.add(new Payout(Payout.Kind.AGENT, s.index(), s.agent(), net));
        }
        if (split.platform().signum() > 0) {
            payouts.add(new Payout(Payout.Kind.FEE, s.index(), null, split.platform()));
        }
        if (split.protocol().signum() > 0) {
            payouts.add(new Payout(Payout.Kind.PROTOCOL_FEE, s.index(), null, split.protocol()));
        }
        if (refund.signum() > 0) {
            payouts.add(new Payout(Payout.Kind.PAYER, s.index(), w.payer(), refund));
        }
        return paid.settled(net, fee, refund);
    }

    /** The measured execution time of a succeeded step in milliseconds, at least 1 (so that every weight counts). */
    static BigInteger executionMillis(Step s) {
        long millis = Duration.between(s.startedAt(), s.finishedAt()).toMillis();
        return BigInteger.valueOf(Math.max(1, millis));
    }

    private static WorkflowState stateOf(WorkflowMode mode, List<Step> steps) {
        if (steps.stream().anyMatch(s -> !s.state().isFinal())) {
            return WorkflowState.RUNNING;
        }
        long succeeded = steps.stream().filter(s -> s.state() == StepState.SUCCEEDED).count();
        if (succeeded == steps.size()) {
            return WorkflowState.SUCCEEDED;
        }
        return mode == WorkflowMode.ATOMIC || succeeded == 0 ? WorkflowState.FAILED : WorkflowState.PARTIAL;
    }

    private static BigInteger sum(List<Payout> payouts, Payout.Kind kind) {
        return payouts.stream().filter(p -> p.kind() == kind).map(Payout::amount).reduce(BigInteger.ZERO, BigInteger::add);
    }
}
