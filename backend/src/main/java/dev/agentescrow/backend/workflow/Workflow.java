package dev.agentescrow.backend.workflow;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One workflow as stored: its terms, its steps and what left its ledger account. Immutable; a
 * change is a {@link WorkflowRules.Plan} the service applies in one transaction under the
 * workflow's row lock.
 *
 * @param evaluator may report any step's outcome besides the step's agent; null for none
 * @param paid what the agents received so far, net of fees
 * @param fees the fees on those payouts (platform and protocol)
 * @param feeBps the platform fee fixed at creation
 * @param protocolFeeBps the protocol fee fixed at creation
 * @param refunded what went back to the payer
 * @param maxMultiplierBps performance pay per step with this largest total multiplier; null for none
 * @param version the number of changes so far
 */
public record Workflow(String id, Address payer, Address token, Address evaluator, WorkflowMode mode, SplitKind split,
                       WorkflowState state, BigInteger amount, BigInteger paid, BigInteger fees, BigInteger refunded,
                       int feeBps, int protocolFeeBps, int maxFeeBps, Integer maxMultiplierBps, int version, Instant createdAt,
                       Instant updatedAt, List<Step> steps) {

    public Workflow {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        steps = List.copyOf(steps);
    }

    public boolean performancePay() {
        return maxMultiplierBps != null;
    }

    /** What the workflow's ledger account still holds: the amount less every payout, fee and refund. */
    public BigInteger held() {
        return amount.subtract(paid).subtract(fees).subtract(refunded);
    }

    public Optional<Step> step(String key) {
        return steps.stream().filter(s -> s.key().equals(key)).findFirst();
    }

    /** When the schedule must look again: the earliest deadline of a step not final; null once the workflow is. */
    public Instant dueAt() {
        if (state != WorkflowState.RUNNING) {
            return null;
        }
        return steps.stream().filter(s -> !s.state().isFinal()).map(Step::deadline).min(Comparator.naturalOrder())
                .orElse(updatedAt);
    }

    /** Whether {@code who} may see the workflow: its payer, its evaluator or a step's agent. */
    public boolean isParty(Address who) {
        return who != null && (who.equals(payer) || who.equals(evaluator)
                || steps.stream().anyMatch(s -> s.agent().equals(who)));
    }

    /** Everyone the workflow's events go to: the payer, the evaluator, every agent (each once). */
    public List<Address> parties() {
        Set<Address> parties = new LinkedHashSet<>();
        parties.add(payer);
        if (evaluator != null) {
            parties.add(evaluator);
        }
        steps.forEach(s -> parties.add(s.agent()));
        return List.copyOf(parties);
    }
}
