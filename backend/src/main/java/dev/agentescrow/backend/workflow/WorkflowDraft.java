package dev.agentescrow.backend.workflow;

import dev.agentescrow.backend.market.MarketTask;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A workflow as requested, each field well-formed already, and its checks as a DAG of steps paid
 * from one amount: {@link #check} answers the first {@link Problem} or the steps with their
 * weights and shares.
 *
 * @param amount the workflow's amount; null with a PRICES split (the sum of the prices)
 * @param evaluator may report any step besides its agent; null for none
 * @param maxMultiplierBps performance pay per step with this largest total multiplier (10,000-45,000); null for none
 */
public record WorkflowDraft(Address token, WorkflowMode mode, SplitKind split, BigInteger amount, Address evaluator,
                            int maxFeeBps, Integer maxMultiplierBps, List<StepDraft> steps) {
    /** The most steps a workflow may have (all of an ATOMIC payout, with fees, is one linked group). */
    public static final int MAX_STEPS = 16;

    /**
     * One requested step: {@code weight} with a WEIGHTS split, {@code price} with PRICES, else null.
     * A step without an {@code agent} is left to an auction: it gives instead its {@code budget} (the
     * most it pays, held up front) and {@code biddingClosesAt} (before its deadline), and no weight
     * or price (it is outside the split).
     */
    public record StepDraft(String key, Address agent, String capability, Instant deadline, List<String> dependsOn,
                            BigInteger weight, BigInteger price, BigInteger budget, Instant biddingClosesAt) {
        /** A step with a named agent. */
        public StepDraft(String key, Address agent, String capability, Instant deadline, List<String> dependsOn,
                         BigInteger weight, BigInteger price) {
            this(key, agent, capability, deadline, dependsOn, weight, price, null, null);
        }

        public boolean auctioned() {
            return agent == null;
        }
    }

    /** Why a draft is refused; each has a stable code (HTTP 422). */
    public enum Problem {
        EMPTY("WORKFLOW_EMPTY", "a workflow has at least one step"),
        TOO_LARGE("WORKFLOW_TOO_LARGE", "a workflow has at most " + MAX_STEPS + " steps"),
        DUPLICATE_STEP("WORKFLOW_DUPLICATE_STEP", "two steps have the same key"),
        UNKNOWN_DEPENDENCY("WORKFLOW_UNKNOWN_DEPENDENCY", "a step depends on a key no step has"),
        SELF_DEPENDENCY("WORKFLOW_SELF_DEPENDENCY", "a step depends on itself"),
        CYCLE("WORKFLOW_CYCLE", "the dependencies form a cycle"),
        SPLIT_NOT_ALLOWED("WORKFLOW_SPLIT_NOT_ALLOWED", "an EXECUTION_TIME split is for ATOMIC workflows only"),
        WEIGHTS_MISMATCH("WORKFLOW_WEIGHTS_MISMATCH", "a WEIGHTS split gives every step a weight, adding up to exactly "
                + Splits.WEIGHT_TOTAL + ", and no other split takes weights"),
        PRICES_MISMATCH("WORKFLOW_PRICES_MISMATCH", "a PRICES split gives every step a price (and an amount, if any,"
                + " equal to their sum), and no other split takes prices"),
        AMOUNT_REQUIRED("WORKFLOW_AMOUNT_REQUIRED", "an amount is required unless the split is PRICES"),
        AMOUNT_TOO_SMALL("WORKFLOW_AMOUNT_TOO_SMALL", "the split leaves a step a share of zero"),
        AMOUNT_TOO_LARGE("WORKFLOW_AMOUNT_TOO_LARGE", "the prices add up to more than 2^256 - 1"),
        AGENT_IS_PAYER("WORKFLOW_AGENT_IS_PAYER", "the payer cannot be a step's agent or the evaluator"),
        DEADLINE_PASSED("WORKFLOW_DEADLINE_PASSED", "every step's deadline must be in the future"),
        DEADLINE_TOO_FAR("WORKFLOW_DEADLINE_TOO_FAR", "a step's deadline is too far ahead"),
        EVALUATOR_MISSING("WORKFLOW_EVALUATOR_MISSING", "performance pay needs an evaluator to score each success"),
        AUCTION_MISMATCH("WORKFLOW_AUCTION_MISMATCH", "a step names its agent, or instead gives a budget and a"
                + " biddingClosesAt (and no weight or price) to be allocated by auction"),
        BIDDING_WINDOW("WORKFLOW_BIDDING_WINDOW", "an auctioned step's bidding closes in the future and before its"
                + " deadline"),
        BUDGET_TOO_SMALL("WORKFLOW_BUDGET_TOO_SMALL", "an auctioned step's budget divided by the largest multiplier"
                + " is below one base unit");

        private final String code;
        private final String message;

        Problem(String code, String message) {
            this.code = code;
            this.message = message;
        }

        public String code() {
            return code;
        }

        public String message() {
            return message;
        }
    }

    /** The checked draft: the problem (and the step it concerns), or the steps and the amount. */
    public record Checked(Problem problem, String detail, BigInteger amount, List<Step> steps) {
        public boolean ok() {
            return problem == null;
        }
    }

    private Checked refused(Problem problem, String detail) {
        return new Checked(problem, detail, null, null);
    }

    /** Checks the DAG, the split and the deadlines (at most {@code maxDuration} after {@code now}). */
    public Checked check(Address payer, Instant now, Duration maxDuration) {
        if (steps.isEmpty()) {
            return refused(Problem.EMPTY, null);
        }
        if (steps.size() > MAX_STEPS) {
            return refused(Problem.TOO_LARGE, steps.size() + " steps");
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            if (index.putIfAbsent(steps.get(i).key(), i) != null) {
                return refused(Problem.DUPLICATE_STEP, steps.get(i).key());
            }
        }
        for (StepDraft s : steps) {
            Set<String> seen = new HashSet<>();
            for (String dep : s.dependsOn()) {
                if (dep.equals(s.key())) {
                    return refused(Problem.SELF_DEPENDENCY, s.key());
                }
                if (!index.containsKey(dep)) {
                    return refused(Problem.UNKNOWN_DEPENDENCY, s.key() + " -> " + dep);
                }
                if (!seen.add(dep)) {
                    return refused(Problem.DUPLICATE_STEP, s.key() + " names " + dep + " twice");
                }
            }
        }
        String cycle = cycleAt(index);
        if (cycle != null) {
            return refused(Problem.CYCLE, "through " + cycle);
        }
        for (StepDraft s : steps) {
            if (s.auctioned() ? s.budget() == null || s.biddingClosesAt() == null || s.weight() != null
                    || s.price() != null : s.budget() != null || s.biddingClosesAt() != null) {
                return refused(Problem.AUCTION_MISMATCH, s.key());
            }
            if (s.agent() != null && s.agent().equals(payer)) {
                return refused(Problem.AGENT_IS_PAYER, s.key());
            }
            if (!s.deadline().isAfter(now)) {
                return refused(Problem.DEADLINE_PASSED, s.key());
            }
            if (s.deadline().isAfter(now.plus(maxDuration))) {
                return refused(Problem.DEADLINE_TOO_FAR, s.key() + ": at most " + maxDuration.toDays() + " days ahead");
            }
            if (s.auctioned() && (!s.biddingClosesAt().isAfter(now) || !s.biddingClosesAt().isBefore(s.deadline()))) {
                return refused(Problem.BIDDING_WINDOW, s.key());
            }
            if (s.auctioned() && maxMultiplierBps != null && maxBasePrice(s.budget()).signum() <= 0) {
                return refused(Problem.BUDGET_TOO_SMALL, s.key());
            }
        }
        if (payer.equals(evaluator)) {
            return refused(Problem.AGENT_IS_PAYER, "evaluator");
        }
        if (maxMultiplierBps != null && evaluator == null) {
            return refused(Problem.EVALUATOR_MISSING, null);
        }
        if (split == SplitKind.EXECUTION_TIME && mode != WorkflowMode.ATOMIC) {
            return refused(Problem.SPLIT_NOT_ALLOWED, null);
        }
        List<StepDraft> named = steps.stream().filter(s -> !s.auctioned()).toList();
        boolean weights = steps.stream().anyMatch(s -> s.weight() != null);
        boolean prices = steps.stream().anyMatch(s -> s.price() != null);
        if (weights != (split == SplitKind.WEIGHTS) || (weights && named.stream().anyMatch(s -> s.weight() == null))
                || (split == SplitKind.WEIGHTS && !named.stream().map(StepDraft::weight)
                        .reduce(BigInteger.ZERO, BigInteger::add).equals(Splits.WEIGHT_TOTAL))) {
            return refused(Problem.WEIGHTS_MISMATCH, null);
        }
        if (split == SplitKind.PRICES ? named.stream().anyMatch(s -> s.price() == null) : prices) {
            return refused(Problem.PRICES_MISMATCH, null);
        }
        BigInteger budgets = steps.stream().filter(StepDraft::auctioned).map(StepDraft::budget)
                .reduce(BigInteger.ZERO, BigInteger::add);
        List<BigInteger> weightOf = new ArrayList<>();
        for (StepDraft s : named) {
            weightOf.add(switch (split) {
                case WEIGHTS -> s.weight();
                case PRICES -> s.price();
                case EQUAL, EXECUTION_TIME -> BigInteger.ONE;
            });
        }
        BigInteger total;
        if (split == SplitKind.PRICES) {
            total = weightOf.stream().reduce(BigInteger.ZERO, BigInteger::add).add(budgets);
            if (amount != null && !amount.equals(total)) {
                return refused(Problem.PRICES_MISMATCH, "the prices and budgets add up to " + total);
            }
        } else if (amount == null && named.isEmpty()) {
            total = budgets;
        } else if (amount == null) {
            return refused(Problem.AMOUNT_REQUIRED, null);
        } else if (named.isEmpty() && !amount.equals(budgets)) {
            return refused(Problem.AUCTION_MISMATCH, "every step is auctioned: the amount, if given, is the sum of"
                    + " the budgets, " + budgets);
        } else {
            total = amount;
        }
        if (total.bitLength() > 256) {
            return refused(Problem.AMOUNT_TOO_LARGE, null);
        }
        BigInteger splitTotal = total.subtract(budgets);
        List<BigInteger> shares = split == SplitKind.EXECUTION_TIME || named.isEmpty() || splitTotal.signum() <= 0
                ? null : Splits.largestRemainder(splitTotal, weightOf);
        if (!named.isEmpty() && (shares == null ? splitTotal.compareTo(BigInteger.valueOf(named.size())) < 0
                : shares.stream().anyMatch(x -> x.signum() == 0))) {
            return refused(Problem.AMOUNT_TOO_SMALL, null);
        }
        List<Step> out = new ArrayList<>();
        int n = 0;
        for (int i = 0; i < steps.size(); i++) {
            StepDraft s = steps.get(i);
            if (s.auctioned()) {
                out.add(Step.of(i, s.key(), null, s.capability(), s.deadline(), s.dependsOn(), s.budget(), s.budget(),
                        StepAuction.open(s.budget(), maxBasePrice(s.budget()), s.biddingClosesAt())));
            } else {
                out.add(Step.of(i, s.key(), s.agent(), s.capability(), s.deadline(), s.dependsOn(), weightOf.get(n),
                        shares == null ? null : shares.get(n)));
                n++;
            }
        }
        return new Checked(null, null, total, out);
    }

    /**
     * The highest base price a bid on an auctioned step of {@code budget} may ask: the budget, or with
     * performance pay {@code floor(budget * 10,000 / maxMultiplierBps)} (as a marketplace task's).
     */
    private BigInteger maxBasePrice(BigInteger budget) {
        return maxMultiplierBps == null ? budget : MarketTask.maxBasePrice(budget, maxMultiplierBps);
    }

    /** A step on a cycle of the dependencies (Kahn's algorithm leaves it unordered), or null for a DAG. */
    private String cycleAt(Map<String, Integer> index) {
        int[] waiting = new int[steps.size()];
        Map<Integer, List<Integer>> dependants = new HashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            waiting[i] = steps.get(i).dependsOn().size();
            for (String dep : steps.get(i).dependsOn()) {
                dependants.computeIfAbsent(index.get(dep), k -> new ArrayList<>()).add(i);
            }
        }
        Deque<Integer> ready = new ArrayDeque<>();
        for (int i = 0; i < waiting.length; i++) {
            if (waiting[i] == 0) {
                ready.add(i);
            }
        }
        int ordered = 0;
        while (!ready.isEmpty()) {
            int i = ready.poll();
            ordered++;
            for (int d : dependants.getOrDefault(i, List.of())) {
                if (--waiting[d] == 0) {
                    ready.add(d);
                }
            }
        }
        if (ordered == steps.size()) {
            return null;
        }
        for (int i = 0; i < waiting.length; i++) {
            if (waiting[i] > 0) {
                return steps.get(i).key();
            }
        }
        return null;
    }
}
