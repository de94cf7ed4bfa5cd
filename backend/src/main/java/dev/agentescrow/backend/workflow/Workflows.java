package dev.agentescrow.backend.workflow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.backend.fee.FeeCharge;
import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.backend.fee.FeeType;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.backend.market.Market;
import dev.agentescrow.backend.market.MarketTaskStore;
import dev.agentescrow.backend.market.ReverseVickreyAuction;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.TransferRecord;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Multi-agent workflows: creation (the payer's whole amount moves at once into the workflow's own
 * ledger account, or nothing does), reports of a step's outcome, and the service's own moves
 * (deadlines, on the leader's schedule and lazily before every report and read).
 *
 * <p><b>Exactly once.</b> Each change runs in one database transaction that first locks the
 * workflow's row, so concurrent reports on one workflow (on any instance) queue and the second
 * finds the step finished; it decides on the state it then sees ({@link WorkflowRules}), pays
 * through the ledger with transfer ids derived from (workflow, part) and waits for the ledger's
 * commit, then writes the rows, the audit records and the events, and commits. A crash between the
 * ledger's commit and this one leaves the ledger account holding less than the rows say: the next
 * change first reads which parts the ledger committed that the rows lack and adopts them at the
 * committed amounts ({@link #recover}, {@link WorkflowRules#adopted}): nothing is recomputed (an
 * EXECUTION_TIME split or a performance payout would differ) and nothing is paid twice.
 *
 * <p><b>Auctioned steps.</b> A step that names no agent takes sealed bids ({@link #bid}) until its
 * window closes; then, first of the leader's schedule, a read or an action, {@link #closeAuctions}
 * allocates it under the workflow's row lock with the marketplace's {@link ReverseVickreyAuction}
 * (each bid's discount the bidder's reputation bonus, {@link Market#reputationBonus}) and commits
 * the agent and price <i>without moving money</i>; the next change (in its own transaction, right
 * after) refunds the surplus or, without a bid, fails the step, from the rows alone. So a lost
 * commit never leaves a ledger transfer whose amount depends on a reputation read at another time.
 */
@Component
public class Workflows {
    private final WorkflowStore store;
    private final WorkflowMoney money;
    private final AuditLog audit;
    private final EventPublisher events;
    private final WorkflowSettings settings;
    private final Market market;
    private final MarketTaskStore services;
    private final Clock clock;
    private final TransactionTemplate tx;

    public Workflows(WorkflowStore store, WorkflowMoney money, AuditLog audit, EventPublisher events,
                     WorkflowSettings settings, Market market, MarketTaskStore services, Clock clock,
                     DataSource dataSource) {
        this.store = store;
        this.money = money;
        this.market = market;
        this.services = services;
        this.audit = audit;
        this.events = events;
        this.settings = settings;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /** The workflow after a create or a report, or a refusal (HTTP status, code, message). */
    public record Result(Workflow workflow, int status, String code, String message) {
        static Result ok(Workflow workflow) {
            return new Result(workflow, 200, null, null);
        }

        static Result refused(int status, String code, String message) {
            return new Result(null, status, code, message);
        }

        public boolean ok() {
            return workflow != null;
        }
    }

    public WorkflowSettings settings() {
        return settings;
    }

    /**
     * Creates and funds a workflow for {@code payer}; its id derives from (payer, Idempotency-Key),
     * so a create retried after a lost answer finds the same workflow (and its funding transfer).
     */
    public Result create(Address payer, String idempotencyKey, WorkflowDraft draft) {
        Instant now = clock.instant();
        FeeRates rates = money.rates();
        if (rates.totalBps() > draft.maxFeeBps()) {
            return Result.refused(422, "WORKFLOW_FEE_ABOVE_MAX", "the fees are " + rates.totalBps()
                    + " bps (platform " + rates.platformBps() + ", protocol " + rates.protocolBps()
                    + "), above the maximum of " + draft.maxFeeBps() + " bps");
        }
        WorkflowDraft.Checked checked = draft.check(payer, now, settings.maxDuration());
        if (!checked.ok()) {
            return Result.refused(422, checked.problem().code(), checked.problem().message()
                    + (checked.detail() == null ? "" : " (" + checked.detail() + ")"));
        }
        String id = WorkflowIds.workflowId(payer, idempotencyKey);
        Workflow workflow = WorkflowRules.started(new Workflow(id, payer, draft.token(), draft.evaluator(), draft.mode(),
                draft.split(), WorkflowState.RUNNING, checked.amount(), BigInteger.ZERO, BigInteger.ZERO,
                BigInteger.ZERO, rates.platformBps(), rates.protocolBps(), draft.maxFeeBps(), draft.maxMultiplierBps(), 1, now, now, checked.steps()), now);
        return tx.execute(status -> {
            if (!store.insert(workflow, DerivedIds.newSecret())) {
                Workflow existing = store.find(id).orElseThrow(() -> new IllegalStateException(
                        "workflow " + id + " exists and is not readable"));
                return sameTerms(existing, workflow) ? Result.ok(existing) : Result.refused(422, "WORKFLOW_ID_CONFLICT",
                        "a workflow with other terms was created under this Idempotency-Key");
            }
            TransferReceipt receipt = money.fund(payer, id, draft.token(), checked.amount());
            if (!receipt.committed()) {
                status.setRollbackOnly();
                return fundingRefused(receipt.result());
            }
            store.transfer(id, new WorkflowStore.TransferRow(receipt.id().toUuid(), "FUND", -1, payer,
                    checked.amount(), receipt.seq(), now));
            audit.record(payer.hex(), "WORKFLOW_CREATED", "workflow", id, draft.token().hex(), checked.amount());
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("workflowId", id);
            data.put("mode", workflow.mode().name());
            data.put("amount", checked.amount().toString());
            data.put("steps", workflow.steps().stream().map(s -> Map.of("key", s.key(), "agent",
                    s.hasAgent() ? s.agent().checksummed() : "auction", "state", s.state().name())).toList());
            events.publishOnce("workflow:" + id + ":created", EventType.WORKFLOW_CREATED, workflow.parties(), id, data);
            return Result.ok(workflow);
        });
    }

    private static boolean sameTerms(Workflow a, Workflow b) {
        return a.token().equals(b.token()) && a.amount().equals(b.amount()) && a.mode() == b.mode()
                && a.split() == b.split() && Objects.equals(a.evaluator(), b.evaluator()) && a.maxFeeBps() == b.maxFeeBps()
                && Objects.equals(a.maxMultiplierBps(), b.maxMultiplierBps())
                && terms(a).equals(terms(b));
    }

    private static List<String> terms(Workflow w) {
        return w.steps().stream().map(s -> String.join("|", s.key(), s.auctioned() ? "auction" : s.agent().hex(),
                s.capability(), s.deadline().toString(), String.join(",", s.dependsOn()), s.weight().toString(),
                s.auctioned() ? s.auction().biddingClosesAt().toString() : "")).toList();
    }

    private static Result fundingRefused(TransferResult result) {
        return switch (result) {
            case EXISTS_WITH_DIFFERENT_CONTENT -> Result.refused(409, "WORKFLOW_ACTION_CONFLICT",
                    "a different funding transfer with this workflow's id was committed earlier");
            case TOO_MANY_ACCOUNTS, TOO_MANY_PENDING -> Result.refused(503, result.name(),
                    "the ledger is at its configured capacity");
            case INSUFFICIENT_FUNDS -> Result.refused(422, result.name(),
                    "the available balance is smaller than the workflow's amount: nothing was held");
            default -> Result.refused(422, result.name(), "the ledger refused the funding: " + result.name());
        };
    }

    /**
     * The workflow if {@code who} is a party (payer, evaluator, an agent), else empty: another
     * principal's workflow is not found. A step past its deadline is failed first (when this
     * instance writes the ledger; elsewhere the leader's schedule does it).
     */
    public Optional<Workflow> visible(String id, Address who) {
        Optional<Workflow> found = store.find(id).filter(w -> w.isParty(who) || store.isBidder(id, who));
        if (found.isPresent() && found.get().state() == WorkflowState.RUNNING && money.writes()
                && !clock.instant().isBefore(found.get().dueAt())) {
            expire(id, false);
            return store.find(id);
        }
        return found;
    }

    public List<WorkflowStore.TransferRow> transfers(String id) {
        return store.transfers(id);
    }

    /** {@code caller} reports step {@code key}'s outcome; first the deadlines due now are applied (and kept). */
    public Result report(String id, String key, Address caller, WorkflowRules.Outcome outcome, String reason,
                         WorkflowRules.Scores scores) {
        closeAuctions(id, false);
        return tx.execute(status -> {
            Optional<Workflow> locked = store.lock(id, false);
            if (locked.isEmpty() || !locked.get().isParty(caller)) {
                return Result.refused(404, "NOT_FOUND", "workflow not found");
            }
            Instant now = clock.instant();
            Workflow w = recover(locked.get(), now);
            WorkflowRules.Plan due = WorkflowRules.advance(w, now, money::fee);
            if (!due.isEmpty()) {
                apply(w, due, WorkflowRules.SERVICE, "WORKFLOW_DEADLINE", "a step's deadline passed");
                w = due.after();
            }
            WorkflowRules.Decision decision = WorkflowRules.report(w, key, caller, outcome, reason, scores, now,
                    money::fee);
            if (decision.refused()) {
                WorkflowRules.Refusal r = decision.refusal();
                return Result.refused(r.status(), r.code(), r.message());
            }
            apply(w, decision.plan(), caller.hex(), "WORKFLOW_STEP_" + outcome.name(),
                    reason == null || reason.isBlank() ? "step " + key + " " + outcome.name().toLowerCase() : reason);
            return Result.ok(decision.plan().after());
        });
    }

    /**
     * The service's move on a workflow with a step past its deadline. {@code skipLocked}: skips a
     * workflow another transaction holds (the schedule; it comes back at the next sweep).
     */
    public void expire(String id, boolean skipLocked) {
        closeAuctions(id, skipLocked);
        tx.executeWithoutResult(status -> store.lock(id, skipLocked).ifPresent(locked -> {
            Instant now = clock.instant();
            Workflow w = recover(locked, now);
            WorkflowRules.Plan due = WorkflowRules.advance(w, now, money::fee);
            if (!due.isEmpty()) {
                apply(w, due, WorkflowRules.SERVICE, "WORKFLOW_DEADLINE", "a step's deadline passed");
            }
        }));
    }

    /** A bid as stored, or a refusal (HTTP status, code, message). */
    public record BidResult(WorkflowStore.Bid bid, int status, String code, String message) {
        static BidResult refused(int status, String code, String message) {
            return new BidResult(null, status, code, message);
        }

        public boolean ok() {
            return bid != null;
        }
    }

    /** The most bids one auctioned step takes. */
    public static final int MAX_BIDS_PER_STEP = 100;

    /**
     * A sealed bid of base price {@code ask} by {@code bidder} on auctioned step {@code key}: the
     * marketplace's task-bid rules, in this order: the workflow's payer (422 WORKFLOW_SELF_BID) or
     * evaluator (422 WORKFLOW_EVALUATOR_BID), a step with a named agent (409
     * WORKFLOW_STEP_NOT_AUCTIONED), the window closed or the step final (409
     * WORKFLOW_BIDDING_CLOSED), above the maximum base price (422 WORKFLOW_BID_ABOVE_MAX), no active
     * service of the bidder covering the step's capability (422 WORKFLOW_CAPABILITY_MISSING), a
     * second bid (409 WORKFLOW_DUPLICATE_BID), the step full (409 WORKFLOW_BIDS_FULL). Under the
     * workflow's row lock: bids on one workflow queue (the cap is exact) and none slips in after the
     * allocation. Any signed-in principal
     * may bid on a workflow whose id it knows; an agent may hold several steps of one workflow.
     */
    public BidResult bid(String id, String key, Address bidder, BigInteger ask) {
        return tx.execute(status -> {
            Optional<Workflow> locked = store.lock(id, false);
            if (locked.isEmpty()) {
                return BidResult.refused(404, "NOT_FOUND", "workflow not found");
            }
            Workflow w = locked.get();
            Instant now = clock.instant();
            Step step = w.step(key).orElse(null);
            if (step == null) {
                return BidResult.refused(404, "WORKFLOW_STEP_NOT_FOUND", "the workflow has no step with this key");
            }
            if (bidder.equals(w.payer())) {
                return BidResult.refused(422, "WORKFLOW_SELF_BID", "the workflow's payer cannot bid on its steps");
            }
            if (bidder.equals(w.evaluator())) {
                return BidResult.refused(422, "WORKFLOW_EVALUATOR_BID", "the workflow's evaluator cannot bid on its"
                        + " steps");
            }
            StepAuction auction = step.auction();
            if (auction == null) {
                return BidResult.refused(409, "WORKFLOW_STEP_NOT_AUCTIONED", "the step names its agent: it takes no"
                        + " bids");
            }
            if (auction.isClosed() || auction.biddingClosed(now) || step.state().isFinal()) {
                return BidResult.refused(409, "WORKFLOW_BIDDING_CLOSED", "the step's bidding window closed at "
                        + auction.biddingClosesAt());
            }
            if (ask.compareTo(auction.maxBasePrice()) > 0) {
                return BidResult.refused(422, "WORKFLOW_BID_ABOVE_MAX", "the maximum base price is "
                        + auction.maxBasePrice());
            }
            if (!services.covers(bidder, List.of(step.capability()))) {
                return BidResult.refused(422, "WORKFLOW_CAPABILITY_MISSING", "the bidder lists no active service"
                        + " covering " + step.capability());
            }
            if (store.bidCount(id, step.index()) >= MAX_BIDS_PER_STEP) {
                if (store.bids(id, step.index()).stream().anyMatch(b -> b.bidder().equals(bidder))) {
                    return BidResult.refused(409, "WORKFLOW_DUPLICATE_BID", "the bidder has bid on this step"
                            + " already");
                }
                return BidResult.refused(409, "WORKFLOW_BIDS_FULL", "the step has " + MAX_BIDS_PER_STEP
                        + " bids, the most it takes");
            }
            if (!store.insertBid(id, step.index(), bidder, ask, now)) {
                return BidResult.refused(409, "WORKFLOW_DUPLICATE_BID", "the bidder has bid on this step already");
            }
            audit.record(bidder.hex(), "WORKFLOW_BID_PLACED", "workflow", id + "/" + key, w.token().hex(), ask);
            events.publish(EventType.WORKFLOW_BID_PLACED, List.of(bidder), id, Map.of("workflowId", id,
                    "step", key, "bidder", bidder.checksummed(), "ask", ask.toString()));
            WorkflowStore.Bid stored = store.bids(id, step.index()).stream().filter(b -> b.bidder().equals(bidder))
                    .findFirst().orElseThrow();
            return new BidResult(stored, 201, null, null);
        });
    }

    /**
     * Closes every auction of the workflow whose window has closed, under the workflow's row lock
     * ({@code skipLocked}: skips a workflow another transaction holds), in a transaction of its own
     * that moves no money: each step with bids is allocated by {@link ReverseVickreyAuction} at its
     * maximum base price (its agent and price fixed, its share its cost), each without is closed
     * unsold. Concurrent triggers queue on the lock and find the auctions closed: allocated once.
     * The surplus refund or the step's failure follows in the next change ({@link #expire}).
     */
    public void closeAuctions(String id, boolean skipLocked) {
        Optional<Workflow> seen = store.find(id);
        if (seen.isEmpty() || seen.get().state() != WorkflowState.RUNNING
                || seen.get().auctionsDue(clock.instant()).isEmpty()) {
            return;
        }
        tx.executeWithoutResult(status -> store.lock(id, skipLocked).ifPresent(locked -> {
            Instant now = clock.instant();
            Workflow w = locked;
            if (w.state() != WorkflowState.RUNNING) {
                return;
            }
            for (Step due : w.auctionsDue(now)) {
                List<WorkflowStore.Bid> bids = store.bids(id, due.index());
                List<ReverseVickreyAuction.Bid> sealed = bids.stream().map(b -> new ReverseVickreyAuction.Bid(
                        b.bidder().hex(), b.ask(), market.reputationBonus(b.bidder()), b.sequence())).toList();
                ReverseVickreyAuction.Allocation allocation = ReverseVickreyAuction
                        .allocate(sealed, due.auction().maxBasePrice()).orElse(null);
                w = WorkflowRules.closeAuction(w, due.index(), allocation, bids.size(), now);
                Step closed = w.steps().get(due.index());
                Map<String, Object> data = new LinkedHashMap<>();
                data.put("workflowId", id);
                data.put("step", closed.key());
                data.put("bids", bids.size());
                if (allocation == null) {
                    audit.record(AUCTIONEER, "WORKFLOW_STEP_UNALLOCATED", "workflow", id + "/" + closed.key(),
                            w.token().hex(), null);
                } else {
                    audit.record(AUCTIONEER, "WORKFLOW_STEP_ALLOCATED", "workflow", id + "/" + closed.key(),
                            w.token().hex(), closed.auction().price());
                    data.put("winner", closed.agent().checksummed());
                    data.put("price", closed.auction().price().toString());
                    data.put("reserveApplied", closed.auction().reserveApplied());
                    data.put("held", closed.share().toString());
                    events.publishOnce("workflow:" + id + ":" + closed.key() + ":allocated",
                            EventType.WORKFLOW_STEP_ALLOCATED, w.parties(), id, data);
                }
            }
            store.update(w);
        }));
    }

    /** The actor of auction closes in the audit log (no principal triggers them). */
    public static final String AUCTIONEER = "workflow-auction";

    /** Workflows with a step past its deadline now. */
    public List<String> due(int limit) {
        return store.due(clock.instant(), limit);
    }

    /**
     * The workflow with every payout the ledger committed but its rows lack (a lost commit)
     * adopted: each part is looked up under its derived id, and those the rows do not record are
     * applied at the amounts the ledger committed ({@link WorkflowRules#adopted}), nothing
     * recomputed and nothing paid again. The ledger account must then hold what the rows say; if
     * not, the change fails (an operator's case: the rows and the ledger disagree otherwise).
     */
    private Workflow recover(Workflow w, Instant now) {
        if (w.state() != WorkflowState.RUNNING) {
            return w;
        }
        BigInteger held = money.held(w);
        if (held.equals(w.held())) {
            return w;
        }
        Set<UUID> recorded = new HashSet<>();
        store.transfers(w.id()).forEach(t -> recorded.add(t.transferId()));
        Map<String, TransferRecord> lost = new LinkedHashMap<>();
        List<String> parts = new ArrayList<>();
        for (Step s : w.steps()) {
            for (String kind : List.of("agent:", "fee:", "protocol_fee:", "payer:", "surplus:")) {
                parts.add(kind + s.index());
            }
        }
        parts.add("payer:all");
        money.committed(w, parts).forEach((part, r) -> {
            if (!recorded.contains(r.id().toUuid())) {
                lost.put(part, r);
            }
        });
        Map<String, BigInteger> amounts = new LinkedHashMap<>();
        lost.forEach((part, r) -> amounts.put(part, r.amount()));
        WorkflowRules.Plan plan = WorkflowRules.adopted(w, amounts, now, money::fee);
        if (plan.isEmpty() || !plan.after().held().equals(held)) {
            throw new IllegalStateException("workflow " + w.id() + " holds " + held + " in the ledger but "
                    + w.held() + " in its rows, and the payouts found there (" + amounts + ") do not account for it");
        }
        List<Committed> committed = plan.payouts().stream().map(p -> lost.get(WorkflowIds.part(p)))
                .map(r -> new Committed(r.id().toUuid(), r.seq())).toList();
        write(w, plan, committed, "recovery");
        return plan.after();
    }

    /** A payout's transfer as the ledger committed it. */
    private record Committed(UUID transferId, long seq) {
    }

    /** Pays the plan's payouts (one linked group), writes the rows, audit records and events. */
    private void apply(Workflow before, WorkflowRules.Plan plan, String actor, String rule, String reason) {
        List<Committed> committed = new ArrayList<>();
        if (!plan.payouts().isEmpty()) {
            List<TransferReceipt> receipts = money.payOut(before, plan.payouts(), rule, actor,
                    reason.length() > 256 ? reason.substring(0, 256) : reason);
            for (int i = 0; i < receipts.size(); i++) {
                TransferReceipt receipt = receipts.get(i);
                if (!receipt.committed()) {
                    throw new IllegalStateException("the ledger refused payout " + i + " of workflow " + before.id()
                            + ": " + receipt.result() + " (the workflow's rows and its ledger account disagree)");
                }
                committed.add(new Committed(receipt.id().toUuid(), receipt.seq()));
            }
        }
        write(before, plan, committed, actor);
    }

    /**
     * Writes a plan whose payouts the ledger committed ({@code committed}, in the plan's order): the
     * transfer rows, the fee charges, the workflow's rows, audit records and events.
     */
    private void write(Workflow before, WorkflowRules.Plan plan, List<Committed> committed, String actor) {
        Workflow after = plan.after();
        Instant now = after.updatedAt();
        List<FeeCharge> charges = new ArrayList<>();
        for (int i = 0; i < committed.size(); i++) {
            Committed receipt = committed.get(i);
            WorkflowRules.Payout payout = plan.payouts().get(i);
            store.transfer(before.id(), new WorkflowStore.TransferRow(receipt.transferId(), payout.kind().name(),
                    payout.index(), payout.to(), payout.amount(), receipt.seq(), now));
            if (payout.kind() == WorkflowRules.Payout.Kind.FEE
                    || payout.kind() == WorkflowRules.Payout.Kind.PROTOCOL_FEE) {
                Step step = after.steps().get(payout.index());
                charges.add(new FeeCharge(receipt.transferId(), payout.kind() == WorkflowRules.Payout.Kind.FEE
                        ? FeeType.PLATFORM : FeeType.PROTOCOL, FeeSource.WORKFLOW, "workflow:" + after.id(),
                        step.agent(), after.token(), payout.amount(), step.paid().add(step.fee()), receipt.seq(),
                        now));
            }
        }
        money.record(charges);
        store.update(after);
        for (Step s : plan.changed()) {
            if (!s.state().isFinal()) {
                continue;
            }
            boolean ok = s.state() == StepState.SUCCEEDED;
            String by = s.reportedBy() == null ? actor : s.reportedBy();
            audit.record(by, "WORKFLOW_STEP_" + s.state().name(), "workflow", after.id() + "/" + s.key(),
                    after.token().hex(), ok ? s.paid().add(s.fee()) : s.refunded());
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("workflowId", after.id());
            data.put("step", s.key());
            data.put("agent", s.hasAgent() ? s.agent().checksummed() : null);
            data.put("reason", s.reason());
            data.put("paid", s.paid().toString());
            data.put("fee", s.fee().toString());
            data.put("refunded", s.refunded().toString());
            if (s.performance() != null) {
                data.put("performance", s.performance());
            }
            events.publishOnce("workflow:" + after.id() + ":" + s.key() + ":" + s.state().name(),
                    ok ? EventType.WORKFLOW_STEP_SUCCEEDED : EventType.WORKFLOW_STEP_FAILED, after.parties(), after.id(),
                    data);
        }
        if (before.state() == WorkflowState.RUNNING && after.state() != WorkflowState.RUNNING) {
            audit.record(actor, "WORKFLOW_" + after.state().name(), "workflow", after.id(), after.token().hex(),
                    after.paid().add(after.fees()));
            events.publishOnce("workflow:" + after.id() + ":finished", EventType.WORKFLOW_FINISHED, after.parties(),
                    after.id(), Map.of("workflowId", after.id(), "state", after.state().name(),
                            "paid", after.paid().toString(), "fees", after.fees().toString(),
                            "refunded", after.refunded().toString()));
        }
    }
}
