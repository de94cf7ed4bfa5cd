package dev.agentescrow.backend.workflow;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One step of a workflow as stored. Immutable: {@link WorkflowRules} derives the next version.
 *
 * @param key the client's name of the step, unique in its workflow; dependencies name it
 * @param weight what the split weighs the step by (1 for EQUAL, the weight, the price); an auctioned
 *               step's budget (it is outside the split)
 * @param share the step's part of the amount, gross; null until known (an EXECUTION_TIME split)
 * @param reportedBy who finished the step: an address, or {@code service} (deadline, dependency)
 * @param reason why it finished (the reporter's words, DEADLINE_PASSED, DEPENDENCY_FAILED, WORKFLOW_FAILED)
 * @param paid what its agent received, net of the fee
 * @param fee the platform's fee on its payout
 * @param refunded what of its share went back to the payer
 * @param quality the evaluator's quality score (0-200) of a success under performance pay; else null
 * @param accuracy the evaluator's accuracy score (0-150) likewise
 * @param performance the performance payout's arithmetic ({@code PerformancePay.Breakdown#arithmetic}); else null
 * @param auction the step's marketplace auction when it names no agent (then {@code agent} is null
 *                until the auction allocates it); null for a step with a named agent
 */
public record Step(int index, String key, Address agent, String capability, Instant deadline, List<String> dependsOn,
                   BigInteger weight, BigInteger share, StepState state, Instant startedAt, Instant finishedAt,
                   String reportedBy, String reason, BigInteger paid, BigInteger fee, BigInteger refunded,
                   Integer quality, Integer accuracy, String performance, StepAuction auction) {

    public Step {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(state, "state");
        dependsOn = List.copyOf(dependsOn);
    }

    /** A new step, WAITING, nothing paid. */
    public static Step of(int index, String key, Address agent, String capability, Instant deadline,
                          List<String> dependsOn, BigInteger weight, BigInteger share) {
        return of(index, key, agent, capability, deadline, dependsOn, weight, share, null);
    }

    /** A new step, WAITING, nothing paid; {@code auction} non-null for a step left to an auction (no agent). */
    public static Step of(int index, String key, Address agent, String capability, Instant deadline,
                          List<String> dependsOn, BigInteger weight, BigInteger share, StepAuction auction) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, StepState.WAITING, null, null,
                null, null, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, null, null, null, auction);
    }

    /** Whether the step is left to an auction (it may have its winner as agent by now). */
    public boolean auctioned() {
        return auction != null;
    }

    /** Whether the step has its agent: named, or allocated by its auction. */
    public boolean hasAgent() {
        return agent != null;
    }

    /**
     * The auction allocated the step to {@code winner} at base price {@code price}: its share is now
     * {@code cost} (the price, or what performance pay holds for it), the rest of the budget is the
     * surplus, refunded by the next change.
     */
    Step allocated(Address winner, BigInteger cost, StepAuction closed) {
        return new Step(index, key, winner, capability, deadline, dependsOn, weight, cost, state, startedAt, finishedAt,
                reportedBy, reason, paid, fee, refunded, quality, accuracy, performance, closed);
    }

    Step withAuction(StepAuction value) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, state, startedAt, finishedAt,
                reportedBy, reason, paid, fee, refunded, quality, accuracy, performance, value);
    }

    Step started(Instant now) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, StepState.RUNNING, now, null,
                null, null, paid, fee, refunded, quality, accuracy, performance, auction);
    }

    Step finished(StepState to, Instant now, String by, String why) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, to, startedAt, now, by, why,
                paid, fee, refunded, quality, accuracy, performance, auction);
    }

    Step scored(int qualityScore, int accuracyScore) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, state, startedAt, finishedAt,
                reportedBy, reason, paid, fee, refunded, qualityScore, accuracyScore, performance, auction);
    }

    Step withPerformance(String arithmetic) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, state, startedAt, finishedAt,
                reportedBy, reason, paid, fee, refunded, quality, accuracy, arithmetic, auction);
    }

    Step withShare(BigInteger value) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, value, state, startedAt, finishedAt,
                reportedBy, reason, paid, fee, refunded, quality, accuracy, performance, auction);
    }

    Step settled(BigInteger net, BigInteger feePaid, BigInteger refund) {
        return new Step(index, key, agent, capability, deadline, dependsOn, weight, share, state, startedAt, finishedAt,
                reportedBy, reason, paid.add(net), fee.add(feePaid), refunded.add(refund), quality, accuracy, performance, auction);
    }
}
