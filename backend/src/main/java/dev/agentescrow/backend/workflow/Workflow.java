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

    /**
     * When the schedule must look again: the earliest deadline of a step not final, the end of an
     * open auction's bidding window, or (a closed auction whose outcome the next change settles:
     * its surplus refund or its failure without a bid) the auction's close; null once the workflow
     * is final.
     */
    public Instant dueAt() {
        if (state != WorkflowState.RUNNING) {
            return null;
        }
        Instant due = steps.stream().filter(s -> !s.state().isFinal()).map(Step::deadline)
                .min(Comparator.naturalOrder()).orElse(updatedAt);
        for (Step s : steps) {
            StepAuction a = s.auction();
            if (a == null) {
                continue;
            }
            Instant at = !a.isClosed() ? (s.state().isFinal() ? null : a.biddingClosesAt())
                    : a.allocated() && a.surplus() == null ? a.closedAt()
                    : !a.allocated() && !s.state().isFinal() ? a.closedAt() : null;
            if (at != null && at.isBefore(due)) {
                due = at;
            }
        }
        return due;
    }

    /** Steps whose auction's bidding window has closed by {@code now} and which are still to allocate. */
    public List<Step> auctionsDue(Instant now) {
        return steps.stream().filter(s -> s.auction() != null && !s.auction().isClosed() && !s.state().isFinal()
                && s.auction().biddingClosed(now)).toList();
    }

    /**
     * What the split divides: the amount less every auctioned step's budget (auctioned steps are
     * paid their auction's price, outside the split).
     */
    public BigInteger splitTotal() {
        return amount.subtract(steps.stream().filter(Step::auctioned).map(s -> s.auction().budget())
                .reduce(BigInteger.ZERO, BigInteger::add));
    }

    /** Whether {@code who} may see the workflow: its payer, its evaluator or a step's agent. */
    public boolean isParty(Address who) {
        return who != null && (who.equals(payer) || who.equals(evaluator)
                || steps.stream().anyMatch(s -> who.equals(s.agent())));
    }

    /** Everyone the workflow's events go to: the payer, the evaluator, every agent (each once). */
    public List<Address> parties() {
        Set<Address> parties = new LinkedHashSet<>();
        parties.add(payer);
        if (evaluator != null) {
            parties.add(evaluator);
        }
        steps.stream().filter(Step::hasAgent).forEach(s -> parties.add(s.agent()));
        return List.copyOf(parties);
    }
}
