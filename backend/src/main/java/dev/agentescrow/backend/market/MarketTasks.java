package dev.agentescrow.backend.market;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowState;
import dev.agentescrow.backend.escrow.Escrows;
import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.backend.escrow.FallbackRule;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Tasks and their sealed-bid auctions (docs/marketplace.md, "Tasks").
 *
 * <p><b>Allocation and funding are one step.</b> When the bidding window has closed, the first of
 * the leader's schedule, a read or an action on the task locks its row and allocates with
 * {@link ReverseVickreyAuction}; the poster's ledger escrow to the winner (clearing price times the
 * largest multiplier) is created and accepted for the winner (its bid is its acceptance) in that
 * same transaction. If the escrow is refused (insufficient funds, ...) that transaction rolls back
 * and the task closes UNALLOCATED with the refusal's code in a transaction of its own; a refusal of
 * the ledger's availability (5xx) leaves the task OPEN for the next try. Concurrent triggers queue
 * on the lock and find the task closed: it is allocated once.
 *
 * <p><b>Completion and scoring</b> follow the requests' rules and pay through the same
 * {@link PerformanceSettlement}. <b>Failures</b> (a report, the winner's dispute, the arbiter's
 * decision, an undisputed window's end, a missed deadline) lock the task's row and run their escrow
 * action in the same transaction; what is due runs on the leader's schedule and before any read or
 * action on the task, so each happens once.
 */
@Component
public class MarketTasks {
    private static final Logger log = LoggerFactory.getLogger(MarketTasks.class);
    /** The actor of allocations in the audit log and the escrow's history (no principal triggers them). */
    public static final String AUCTIONEER = "market-auction";

    private final MarketTaskStore tasks;
    private final MarketStore market;
    private final Market services;
    private final Escrows escrows;
    private final PerformanceSettlement settlement;
    private final EscrowClosure closure;
    private final AuditLog audit;
    private final EventPublisher events;
    private final Clock clock;
    private final TransactionTemplate tx;

    public MarketTasks(MarketTaskStore tasks, MarketStore market, Market services, Escrows escrows,
                       PerformanceSettlement settlement, EscrowClosure closure, AuditLog audit, EventPublisher events, Clock clock,
                       DataSource dataSource) {
        this.tasks = tasks;
        this.market = market;
        this.services = services;
        this.escrows = escrows;
        this.settlement = settlement;
        this.closure = closure;
        this.audit = audit;
        this.events = events;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /**
     * A task's terms, checked field by field already; {@code evaluator} (null: the poster) scores the
     * result or reports failure; the winner may dispute a reported failure for {@code disputeWindowSeconds}.
     */
    public record Posting(List<String> capabilities, String description, Address token, BigInteger budget,
                          int maxMultiplierBps, long biddingSeconds, long workSeconds, Address evaluator,
                          long disputeWindowSeconds) {
    }

    /** A task with its bids (in the order stored). */
    public record Listed(MarketTask task, List<MarketTask.Bid> bids) {
    }

    /** Posts a task; its id derives from (poster, Idempotency-Key), so a retry finds the same one. */
    public Market.Result<MarketTask> post(Address poster, String idempotencyKey, Posting p) {
        BigInteger maxBase = MarketTask.maxBasePrice(p.budget(), p.maxMultiplierBps());
        if (maxBase.signum() <= 0) {
            return Market.Result.refused(422, "MARKET_BUDGET_TOO_SMALL", "the budget divided by the largest"
                    + " multiplier is below one base unit");
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        String id = MarketIds.taskId(poster, idempotencyKey);
        MarketTask task = new MarketTask(id, poster, MarketTask.State.OPEN, p.capabilities(), p.description(),
                p.token(), p.budget(), p.maxMultiplierBps(), maxBase, now.plusSeconds(p.biddingSeconds()),
                p.workSeconds(), now, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, p.evaluator() == null || p.evaluator().equals(poster) ? null : p.evaluator(),
                p.disputeWindowSeconds(), null, null, 0);
        return tx.execute(status -> {
            if (!tasks.insert(task)) {
                MarketTask existing = tasks.find(id).orElseThrow();
                boolean same = existing.capabilities().equals(p.capabilities())
                        && existing.token().equals(p.token()) && existing.budget().equals(p.budget())
                        && existing.maxMultiplierBps() == p.maxMultiplierBps()
                        && existing.workSeconds() == p.workSeconds()
                        && java.util.Objects.equals(existing.evaluator(), task.evaluator())
                        && existing.disputeWindowSeconds() == p.disputeWindowSeconds();
                return same ? Market.Result.ok(existing) : Market.Result.refused(422, "MARKET_ID_CONFLICT",
                        "a task with other terms was posted under this Idempotency-Key");
            }
            audit.record(poster.hex(), "MARKET_TASK_POSTED", "market_task", id, p.token().hex(), p.budget());
            events.publish(EventType.MARKET_TASK_POSTED, List.of(poster), id, Map.of("taskId", id,
                    "capabilities", p.capabilities(), "token", p.token().checksummed(), "budget",
                    p.budget().toString(), "maxBasePrice", maxBase.toString(), "biddingClosesAt",
                    task.biddingClosesAt().toString()));
            return Market.Result.ok(tasks.find(id).orElseThrow());
        });
    }

    /**
     * The task and its bids; what is due happens first, once: a task whose window has closed is
     * allocated, a missed deadline or an ended dispute window fails it. Any principal sees a task.
     */
    public Optional<Listed> view(String id) {
        Optional<MarketTask> found = catchUp(id);
        return found.map(t -> new Listed(t, tasks.bids(id)));
    }

    /** One keyset page of tasks (newest first); see {@link MarketTaskStore#list}. */
    public List<MarketTask> list(MarketTaskStore.Query query, long before, int limit) {
        return tasks.list(query, before, limit);
    }

    /** The task after whatever was due on it (allocation, a missed deadline, an ended dispute window). */
    private Optional<MarketTask> catchUp(String id) {
        Optional<MarketTask> found = tasks.find(id);
        if (found.isPresent() && due(found.get())) {
            allocate(id);
            found = tasks.find(id);
        }
        if (found.isPresent() && settlementDue(found.get(), clock.instant())) {
            found = Optional.of(settle(id));
        }
        return found;
    }

    private boolean due(MarketTask t) {
        return t.state() == MarketTask.State.OPEN && t.biddingClosed(clock.instant());
    }

    /**
     * A sealed bid of {@code ask} by {@code bidder}: refused above the maximum base price, after the
     * window, without an active service covering the capabilities, a second time, or by the poster.
     */
    public Market.Result<MarketTask.Bid> bid(String id, Address bidder, BigInteger ask) {
        Optional<MarketTask> found = tasks.find(id);
        if (found.isEmpty()) {
            return Market.Result.refused(404, "NOT_FOUND", "task not found");
        }
        if (due(found.get())) {
            allocate(id);
        }
        return tx.execute(status -> {
            MarketTask t = tasks.lock(id, true).orElseThrow();
            Instant now = clock.instant();
            if (t.poster().equals(bidder)) {
                return Market.Result.refused(422, "MARKET_SELF_BID", "the poster cannot bid on its own task");
            }
            if (t.state() != MarketTask.State.OPEN || t.biddingClosed(now)) {
                return Market.Result.refused(409, "MARKET_BIDDING_CLOSED", "the bidding window closed at "
                        + t.biddingClosesAt());
            }
            if (ask.compareTo(t.maxBasePrice()) > 0) {
                return Market.Result.refused(422, "MARKET_BID_ABOVE_MAX", "the maximum base price is "
                        + t.maxBasePrice());
            }
            if (bidder.equals(t.evaluator())) {
                return Market.Result.refused(422, "MARKET_EVALUATOR_BID", "the task's evaluator cannot bid on it");
            }
            if (!tasks.covers(bidder, t.capabilities())) {
                return Market.Result.refused(422, "MARKET_CAPABILITY_MISSING", "the bidder lists no active service"
                        + " covering " + t.capabilities());
            }
            if (!tasks.insertBid(id, bidder, ask, now)) {
                return Market.Result.refused(409, "MARKET_DUPLICATE_BID", "the bidder has bid on this task already");
            }
            audit.record(bidder.hex(), "MARKET_BID_PLACED", "market_task", id, t.token().hex(), ask);
            events.publish(EventType.MARKET_BID_PLACED, List.of(bidder), id, Map.of("taskId", id,
                    "bidder", bidder.checksummed(), "ask", ask.toString()));
            return Market.Result.ok(tasks.bids(id).stream().filter(b -> b.bidder().equals(bidder)).findFirst()
                    .orElseThrow());
        });
    }

    /** Allocates every open task whose window has closed (the leader's schedule); how many were closed. */
    public int allocateDue(int limit) {
        int closed = 0;
        for (String id : tasks.closedOpen(clock.instant(), limit)) {
            if (allocate(id).state() != MarketTask.State.OPEN) {
                closed++;
            }
        }
        return closed;
    }

    /**
     * Allocates the task if its window has closed and it is still OPEN, under its row's lock: the
     * auction, the escrow and the task's row in one transaction. Returns the task after it.
     */
    public MarketTask allocate(String id) {
        String[] refusal = new String[1];
        MarketTask done = tx.execute(status -> {
            MarketTask t = tasks.lock(id, false).orElseThrow();
            Instant now = clock.instant();
            if (t.state() != MarketTask.State.OPEN || !t.biddingClosed(now)) {
                return t;
            }
            List<MarketTask.Bid> bids = tasks.bids(id);
            if (bids.isEmpty()) {
                return unallocated(t, now, "NO_BIDS");
            }
            List<ReverseVickreyAuction.Bid> sealed = bids.stream().map(b -> new ReverseVickreyAuction.Bid(
                    b.bidder().hex(), b.ask(), reputationBonus(b.bidder()), b.sequence())).toList();
            ReverseVickreyAuction.Allocation a = ReverseVickreyAuction.allocate(sealed, t.maxBasePrice()).orElseThrow();
            Address winner = Address.of(a.winner().bidder());
            Optional<Address> arbiter = services.arbiter();
            if (arbiter.isEmpty()) {
                return t; // no arbiter configured: the task waits OPEN (the requests answer 503 MARKET_NO_ARBITER)
            }
            if (arbiter.get().equals(t.poster()) || arbiter.get().equals(winner)) {
                return unallocated(t, now, "MARKET_ARBITER_IS_PARTY");
            }
            BigInteger escrowed = PerformancePay.escrowFor(a.price(), t.maxMultiplierBps());
            Escrows.Terms terms = new Escrows.Terms(t.token(), List.of(winner), List.of(escrowed),
                    now.plusSeconds(2 * t.workSeconds()), escrows.settings().defaultGrace().toSeconds(),
                    escrows.settings().defaultArbitration().toSeconds(), arbiter.get(), null,
                    MarketIds.taskTermsHash(id, winner, a.price().toString(), t.maxMultiplierBps()), true,
                    escrows.totalFeeBps(), FallbackRule.REFUND_PAYER, FeeSource.TASK);
            Escrows.Result created = escrows.create(t.poster(), MarketIds.escrowKey(id), terms);
            if (!created.ok()) {
                status.setRollbackOnly();
                refusal[0] = created.status() >= 500 ? null : created.code();
                return null;
            }
            Escrows.Result accepted = escrows.accept(created.escrow().id(), winner);
            if (!accepted.ok()) {
                status.setRollbackOnly();
                refusal[0] = "MARKET_ESCROW_REFUSED";
                return null;
            }
            MarketTask allocated = t.allocated(now, winner, a.price(), a.reserveApplied(), escrowed,
                    created.escrow().id());
            tasks.update(allocated);
            audit.record(AUCTIONEER, "MARKET_TASK_ALLOCATED", "market_task", id, t.token().hex(), escrowed);
            events.publish(EventType.MARKET_TASK_ALLOCATED, List.of(t.poster(), winner), id, Map.of("taskId", id,
                    "winner", winner.checksummed(), "clearingPrice", a.price().toString(), "escrowed",
                    escrowed.toString(), "escrowId", created.escrow().id(), "bids", bids.size()));
            return allocated;
        });
        if (done != null) {
            return done;
        }
        if (refusal[0] == null) {
            return tasks.find(id).orElseThrow(); // the ledger was unavailable: OPEN, tried again later
        }
        // the escrow was refused: no allocation, no escrow; the task closes and says why
        return tx.execute(status -> {
            MarketTask t = tasks.lock(id, false).orElseThrow();
            return t.state() == MarketTask.State.OPEN ? unallocated(t, clock.instant(), refusal[0]) : t;
        });
    }

    private MarketTask unallocated(MarketTask t, Instant now, String reason) {
        MarketTask closed = t.unallocated(now, reason);
        tasks.update(closed);
        audit.record(AUCTIONEER, "MARKET_TASK_UNALLOCATED", "market_task", t.id(), t.token().hex(), null);
        events.publish(EventType.MARKET_TASK_UNALLOCATED, List.of(t.poster()), t.id(), Map.of("taskId", t.id(),
                "reason", reason));
        return closed;
    }

    /** An agent's reputation bonus as a provider (0-1,000 bps): its pay bonus and its auction discount. */
    private int reputationBonus(Address agent) {
        return services.reputationBonus(agent);
    }

    // ------------------------------------------------------------------ completion and scoring

    /** The winner delivers a result reference, once, while the escrow is FUNDED and before its deadline. */
    public Market.Result<MarketTask> complete(String id, Address caller, String resultRef) {
        catchUp(id);
        return locked(id, (t, status) -> {
            Market.Result<MarketTask> notWinner = notWinner(t, caller, "completes it");
            if (notWinner != null) {
                return notWinner;
            }
            if (t.state() == MarketTask.State.CLOSED) {
                return closedRefusal(t);
            }
            if (t.failure() != null && t.failure().reason() == MarketTask.FailureReason.DEADLINE_MISSED) {
                return Market.Result.refused(422, "MARKET_TASK_EXPIRED", "the late window closed at "
                        + t.lateDeadline());
            }
            if (t.failure() != null) {
                return Market.Result.refused(409, "MARKET_TASK_FAILED", "the task is " + t.state());
            }
            if (t.state() != MarketTask.State.ALLOCATED) {
                return Market.Result.refused(409, "MARKET_ALREADY_COMPLETED", "the task was completed already");
            }
            Instant now = clock.instant();
            Escrow escrow = escrows.find(t.escrowId()).orElseThrow();
            if (escrow.state() != EscrowState.FUNDED) {
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the task's escrow is " + escrow.state());
            }
            if (now.isAfter(escrow.deadline())) {
                return Market.Result.refused(422, "MARKET_TASK_EXPIRED", "the late window closed at "
                        + escrow.deadline());
            }
            MarketTask done = t.completed(now, resultRef);
            tasks.update(done);
            audit.record(caller.hex(), "MARKET_TASK_COMPLETED", "market_task", id, t.token().hex(), null);
            events.publish(EventType.MARKET_TASK_COMPLETED, List.of(t.poster(), t.winner()), id, Map.of(
                    "taskId", id, "resultRef", resultRef, "completedAt", now.toString()));
            return Market.Result.ok(done);
        });
    }

    /**
     * The poster scores a completed task (quality 0-200, accuracy 0-150): the winner is paid by
     * {@link PerformancePay} (with its reputation bonus) out of the escrow, the rest refunded. Once.
     */
    public Market.Result<MarketTask> score(String id, Address caller, int quality, int accuracy) {
        catchUp(id);
        int[] bonus = new int[1];
        Market.Result<MarketTask> checked = tx.execute(status -> {
            Optional<MarketTask> locked = tasks.lock(id, false);
            Market.Result<MarketTask> refusal = scorable(locked, caller);
            if (refusal != null) {
                return refusal;
            }
            MarketTask t = locked.get();
            bonus[0] = reputationBonus(t.winner());
            String refused = settlement.open(t.escrowId(), t.poster(), pay(t, quality, accuracy, bonus[0]), id);
            if (refused != null) {
                status.setRollbackOnly();
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the task's escrow cannot settle: " + refused);
            }
            return Market.Result.ok(t);
        });
        if (!checked.ok()) {
            return checked;
        }
        return tx.execute(status -> {
            Optional<MarketTask> locked = tasks.lock(id, false);
            Market.Result<MarketTask> refusal = scorable(locked, caller);
            if (refusal != null) {
                return refusal;
            }
            MarketTask t = locked.get();
            Instant now = clock.instant();
            PerformancePay.Breakdown pay = pay(t, quality, accuracy, bonus[0]);
            MarketTask scored = t.scored(now, quality, accuracy, pay, PerformanceSettlement.breakdownJson(pay));
            tasks.update(scored);
            market.addOutcome(t.winner(), t.rater(), MarketStore.OutcomeKind.TASK, id, MarketStore.OutcomeResult.SCORED,
                    quality, t.deliveredLate(), now);
            String refused = settlement.settle(t.escrowId(), t.poster(), pay);
            if (refused != null) {
                status.setRollbackOnly();
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the task's escrow cannot settle: " + refused);
            }
            audit.record(caller.hex(), "MARKET_TASK_SCORED", "market_task", id, t.token().hex(), pay.payout());
            events.publish(EventType.MARKET_TASK_SCORED, List.of(t.poster(), t.winner()), id, Map.of(
                    "taskId", id, "quality", quality, "accuracy", accuracy, "payout", pay.payout().toString(),
                    "refund", pay.refund().toString(), "escrowId", t.escrowId()));
            return Market.Result.ok(scored);
        });
    }

    private static Market.Result<MarketTask> scorable(Optional<MarketTask> locked, Address caller) {
        if (locked.isEmpty()) {
            return Market.Result.refused(404, "NOT_FOUND", "task not found");
        }
        MarketTask t = locked.get();
        Market.Result<MarketTask> notRater = notRater(t, caller);
        if (notRater != null) {
            return notRater;
        }
        if (t.state() == MarketTask.State.CLOSED) {
            return closedRefusal(t);
        }
        if (t.failure() != null) {
            return Market.Result.refused(409, "MARKET_TASK_FAILED", "the task is " + t.state());
        }
        if (t.state() == MarketTask.State.SCORED) {
            return Market.Result.refused(409, "MARKET_ALREADY_SCORED", "the task was scored already");
        }
        if (t.state() != MarketTask.State.COMPLETED) {
            return Market.Result.refused(409, "MARKET_NOT_COMPLETED", "the task is " + t.state());
        }
        return null;
    }

    /** Under the task's row lock, in one transaction: {@code action} on the task (it may roll back), or 404. */
    private Market.Result<MarketTask> locked(String id,
            BiFunction<MarketTask, TransactionStatus, Market.Result<MarketTask>> action) {
        return tx.execute(status -> tasks.lock(id, false).map(t -> action.apply(t, status))
                .orElseGet(() -> Market.Result.refused(404, "NOT_FOUND", "task not found")));
    }

    /** The refusal of any action on a CLOSED task: its escrow ended by the escrow's own rules. */
    private static Market.Result<MarketTask> closedRefusal(MarketTask t) {
        return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the task's escrow ended (" + t.closed().how()
                + "): the task is closed");
    }

    /** Null when the task has a winner and it is {@code caller}; else the refusal. */
    private static Market.Result<MarketTask> notWinner(MarketTask t, Address caller, String what) {
        if (t.winner() == null) {
            return Market.Result.refused(409, "MARKET_NOT_ALLOCATED", "the task is " + t.state());
        }
        return t.winner().equals(caller) ? null
                : Market.Result.refused(403, "MARKET_WINNER_ONLY", "only the task's winner " + what);
    }

    /** Null when {@code caller} is the one who scores or reports failure: the evaluator if named, else the poster. */
    private static Market.Result<MarketTask> notRater(MarketTask t, Address caller) {
        if (t.rater().equals(caller)) {
            return null;
        }
        return t.evaluator() != null
                ? Market.Result.refused(403, "MARKET_EVALUATOR_ONLY", "only the task's evaluator scores it or reports"
                        + " failure")
                : Market.Result.refused(403, "MARKET_POSTER_ONLY", "only the task's poster scores it or reports failure");
    }

    // ------------------------------------------------------------------ failure, dispute, arbiter

    /**
     * The poster (or the task's evaluator) reports that the work failed, from ALLOCATED or
     * COMPLETED: the poster's escrow is disputed in the same transaction (frozen for the
     * arbiter), and the winner may dispute until {@code now + disputeWindowSeconds}; undisputed by
     * then the poster is refunded everything ({@link #settle}). Once.
     */
    public Market.Result<MarketTask> reportFailure(String id, Address caller, String detail) {
        catchUp(id);
        return locked(id, (t, status) -> {
            Market.Result<MarketTask> notRater = notRater(t, caller);
            if (notRater != null) {
                return notRater;
            }
            if (t.state() == MarketTask.State.CLOSED) {
                return closedRefusal(t);
            }
            if (t.winner() == null) {
                return Market.Result.refused(409, "MARKET_NOT_ALLOCATED", "the task is " + t.state());
            }
            if (t.failure() != null) {
                return Market.Result.refused(409, "MARKET_TASK_FAILED", "the task is " + t.state());
            }
            if (t.state() == MarketTask.State.SCORED) {
                return Market.Result.refused(409, "MARKET_ALREADY_SCORED", "the task was scored already");
            }
            Instant now = clock.instant();
            Escrows.Result disputed = escrows.dispute(t.escrowId(), t.poster(), "market task " + id
                    + ": failure reported");
            if (!disputed.ok()) {
                status.setRollbackOnly();
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the task's escrow cannot be held for the"
                        + " arbiter: " + disputed.code());
            }
            MarketTask reported = t.failureReported(now, detail);
            tasks.update(reported);
            audit.record(caller.hex(), "MARKET_TASK_FAILURE_REPORTED", "market_task", id, t.token().hex(), null);
            events.publish(EventType.MARKET_TASK_FAILURE_REPORTED, List.of(t.poster(), t.winner()), id, Map.of(
                    "taskId", id, "reportedBy", caller.checksummed(), "detail", detail,
                    "disputeWindowEnds", reported.failure().windowEnds().toString()));
            return Market.Result.ok(reported);
        });
    }

    /** The winner disputes a reported failure before its window ends: the platform's arbiter decides. Once. */
    public Market.Result<MarketTask> dispute(String id, Address caller, String detail) {
        catchUp(id);
        return locked(id, (t, status) -> {
            Market.Result<MarketTask> notWinner = notWinner(t, caller, "disputes a failure");
            if (notWinner != null) {
                return notWinner;
            }
            if (t.state() == MarketTask.State.CLOSED) {
                return closedRefusal(t);
            }
            if (t.state() == MarketTask.State.DISPUTED || t.state() == MarketTask.State.RESOLVED) {
                return Market.Result.refused(409, "MARKET_ALREADY_DISPUTED", "the failure was disputed already");
            }
            if (t.state() == MarketTask.State.FAILED && t.failure().reason() == MarketTask.FailureReason.REPORTED) {
                return Market.Result.refused(422, "MARKET_DISPUTE_WINDOW_CLOSED", "the dispute window closed at "
                        + t.failure().windowEnds());
            }
            if (t.state() != MarketTask.State.FAILURE_REPORTED) {
                return Market.Result.refused(409, "MARKET_NO_FAILURE_REPORTED", "no failure is reported for the task"
                        + " (it is " + t.state() + ")");
            }
            Instant now = clock.instant();
            if (now.isAfter(t.failure().windowEnds())) {
                return Market.Result.refused(422, "MARKET_DISPUTE_WINDOW_CLOSED", "the dispute window closed at "
                        + t.failure().windowEnds());
            }
            MarketTask disputed = t.disputed(now, detail);
            tasks.update(disputed);
            Escrow escrow = escrows.find(t.escrowId()).orElseThrow();
            audit.record(caller.hex(), "MARKET_TASK_DISPUTED", "market_task", id, t.token().hex(), null);
            events.publish(EventType.MARKET_TASK_DISPUTED, List.of(t.poster(), t.winner(), escrow.arbiter()), id,
                    Map.of("taskId", id, "detail", detail, "arbiter", escrow.arbiter().checksummed(),
                            "arbitrationDeadline", String.valueOf(escrow.arbitrationDeadline())));
            return Market.Result.ok(disputed);
        });
    }

    /**
     * The platform's arbiter decides a disputed failure: {@code toWinner} (gross, at most what the
     * escrow holds) is paid to the winner, the rest refunded to the poster, through the escrow's
     * resolve in the same transaction. The winner's outcome counts its share of the clearing price
     * as its quality. Once.
     */
    public Market.Result<MarketTask> decide(String id, Address caller, BigInteger toWinner) {
        return locked(id, (t, status) -> {
            Escrow escrow = t.escrowId() == null ? null : escrows.find(t.escrowId()).orElseThrow();
            if (escrow == null || !escrow.arbiter().equals(caller)) {
                return Market.Result.refused(403, "MARKET_ARBITER_ONLY", "only the platform's arbiter decides a"
                        + " disputed task");
            }
            if (t.state() == MarketTask.State.CLOSED) {
                return closedRefusal(t);
            }
            if (t.state() == MarketTask.State.RESOLVED) {
                return Market.Result.refused(409, "MARKET_ALREADY_DECIDED", "the arbiter decided already");
            }
            if (t.state() != MarketTask.State.DISPUTED) {
                return Market.Result.refused(409, "MARKET_NOT_DISPUTED", "the task is " + t.state());
            }
            if (toWinner.compareTo(t.escrowed()) > 0) {
                return Market.Result.refused(422, "MARKET_SPLIT_ABOVE_ESCROW", "the escrow holds " + t.escrowed());
            }
            Instant now = clock.instant();
            Escrows.Result resolved = escrows.resolve(t.escrowId(), caller, toWinner.signum() > 0
                    ? Map.of(0, toWinner) : Map.of(), t.escrowed().subtract(toWinner));
            if (!resolved.ok()) {
                status.setRollbackOnly();
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the task's escrow cannot be resolved: "
                        + resolved.code());
            }
            MarketTask decided = t.resolved(now, toWinner);
            tasks.update(decided);
            recordOutcome(decided, now);
            audit.record(caller.hex(), "MARKET_TASK_RESOLVED", "market_task", id, t.token().hex(), toWinner);
            events.publish(EventType.MARKET_TASK_RESOLVED, List.of(t.poster(), t.winner()), id, Map.of("taskId", id,
                    "toWinner", toWinner.toString(), "refund", decided.refund().toString(), "escrowId", t.escrowId()));
            return Market.Result.ok(decided);
        });
    }

    /** Whether a failure is due on the task at {@code now}: a missed late window, or an ended dispute window. */
    private static boolean failureDue(MarketTask t, Instant now) {
        return (t.state() == MarketTask.State.ALLOCATED && now.isAfter(t.lateDeadline()))
                || (t.state() == MarketTask.State.FAILURE_REPORTED && now.isAfter(t.failure().windowEnds()));
    }

    /** Whether something is due on a running task: a failure, or its escrow ended or due on its own schedule. */
    private boolean settlementDue(MarketTask t, Instant now) {
        if (t.state().isFinal() || t.escrowId() == null) {
            return false;
        }
        return failureDue(t, now) || EscrowClosure.endedOrDue(escrows.find(t.escrowId()).orElseThrow(), now);
    }

    /** Settles every running task with something due (the leader's schedule); how many reached a final state. */
    public int settleDue(int limit) {
        int settled = 0;
        for (String id : tasks.dueSettlements(clock.instant(), limit)) {
            if (settle(id).state().isFinal()) {
                settled++;
            }
        }
        return settled;
    }

    /**
     * Under the task's lock, in one transaction, whatever is due on a running task: a task ALLOCATED
     * past its late window has missed its deadline (no dispute window): the poster's escrow is
     * refunded at once; a reported failure whose dispute window ended undisputed is refunded through
     * the arbiter's resolve; an escrow whose grace or arbitration period ended gets its own due move
     * (the refund, the fallback) in this transaction. Then, once the escrow has ended (by these moves
     * or earlier by another way), the task takes the final state that says how
     * ({@link MarketTask#settledBy}), with the winner's outcome where the rules count one, an audit
     * record and an event. Idempotent: a task already final, or whose escrow still runs, is returned
     * as it is.
     */
    public MarketTask settle(String id) {
        return tx.execute(status -> {
            MarketTask t = tasks.lock(id, false).orElseThrow();
            Instant now = clock.instant();
            if (t.state().isFinal() || t.escrowId() == null) {
                return t;
            }
            Escrow escrow = escrows.find(t.escrowId()).orElseThrow();
            if (!escrow.state().isFinal() && !EscrowClosure.due(escrow, now) && failureDue(t, now)) {
                Escrows.Result refunded = t.state() == MarketTask.State.ALLOCATED
                        ? escrows.refund(t.escrowId(), t.poster())
                        : escrows.resolve(t.escrowId(), escrow.arbiter(), Map.of(), escrow.held());
                if (!refunded.ok()) {
                    // e.g. the escrow is in a state the failure cannot move (disputed through the escrow API):
                    // its own periods end it, and the task follows at the next trigger after that
                    status.setRollbackOnly();
                    log.info("task {}: the escrow refused the failure's refund ({}); tried again later", id,
                            refunded.code());
                    return t;
                }
            }
            Optional<EscrowClosure.Closure> ended = closure.settle(t.escrowId(), now, status::setRollbackOnly);
            if (ended.isEmpty()) {
                return t;
            }
            MarketTask after = t.settledBy(ended.get(), now);
            tasks.update(after);
            recordOutcome(after, now);
            String action = switch (after.state()) {
                case FAILED -> "MARKET_TASK_FAILED";
                case RESOLVED -> "MARKET_TASK_RESOLVED";
                default -> "MARKET_TASK_CLOSED";
            };
            audit.record(AUCTIONEER, action, "market_task", id, t.token().hex(), after.refund());
            Map<String, Object> data = new java.util.LinkedHashMap<>(Map.of("taskId", id, "payout",
                    after.payout().toString(), "refund", after.refund().toString(), "escrowId", t.escrowId()));
            switch (after.state()) {
                case FAILED -> {
                    data.put("reason", after.failure().reason().name());
                    events.publish(EventType.MARKET_TASK_FAILED, List.of(t.poster(), t.winner()), id, data);
                }
                case RESOLVED -> {
                    data.put("toWinner", after.payout().toString());
                    events.publish(EventType.MARKET_TASK_RESOLVED, List.of(t.poster(), t.winner()), id, data);
                }
                default -> {
                    data.put("closure", after.closed().how().name());
                    data.put("from", t.state().name());
                    events.publish(EventType.MARKET_TASK_CLOSED, List.of(t.poster(), t.winner()), id, data);
                }
            }
            return after;
        });
    }

    /**
     * The winner's outcome of a task that reached a final state other than SCORED: a missed deadline
     * ({@code DEADLINE_MISSED}, late, the poster's word), an undisputed failure ({@code FAILED},
     * quality 0), an arbiter's split, through the marketplace or the escrow API ({@code RESOLVED},
     * its share of the clearing price as quality). An escrow that ended by its own periods or the
     * poster's release (CLOSED: EXPIRED, FALLBACK, RELEASED) is nobody's word on the work: no outcome.
     */
    private void recordOutcome(MarketTask t, Instant now) {
        boolean arbiter = t.state() == MarketTask.State.RESOLVED
                || (t.state() == MarketTask.State.CLOSED && t.closed().how() == EscrowClosure.How.ARBITER);
        if (arbiter) {
            int quality = t.payout().multiply(BigInteger.valueOf(100)).divide(t.clearingPrice())
                    .min(BigInteger.valueOf(PerformancePay.QUALITY_MAX)).intValueExact();
            market.addOutcome(t.winner(), t.rater(), MarketStore.OutcomeKind.TASK, t.id(),
                    MarketStore.OutcomeResult.RESOLVED, quality, false, now);
        } else if (t.state() == MarketTask.State.FAILED) {
            boolean missed = t.failure().reason() == MarketTask.FailureReason.DEADLINE_MISSED;
            market.addOutcome(t.winner(), missed ? t.poster() : t.rater(), MarketStore.OutcomeKind.TASK, t.id(),
                    missed ? MarketStore.OutcomeResult.DEADLINE_MISSED : MarketStore.OutcomeResult.FAILED, 0, missed,
                    now);
        }
    }

    private static PerformancePay.Breakdown pay(MarketTask t, int quality, int accuracy, int bonusBps) {
        return PerformancePay.payout(t.clearingPrice(), t.escrowed(), t.maxMultiplierBps(),
                new PerformancePay.Scores(quality, accuracy, t.elapsed(), t.allowed(), bonusBps));
    }
}
