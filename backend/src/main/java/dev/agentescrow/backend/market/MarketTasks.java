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
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MarketTasks.class);

    /** The actor of allocations in the audit log and the escrow's history (no principal triggers them). */
    public static final String AUCTIONEER = "market-auction";

    private final MarketTaskStore tasks;
    private final MarketStore market;
    private final Market services;
    private final Escrows escrows;
    private final PerformanceSettlement settlement;
    private final MarketFailures failures;
    /** The tasks' names and rows in the failure flow shared with requests. */
    private final MarketFailures.Kind<MarketTask> kind;
    private final AuditLog audit;
    private final EventPublisher events;
    private final Clock clock;
    private final TransactionTemplate tx;

    public MarketTasks(MarketTaskStore tasks, MarketStore market, Market services, Escrows escrows,
                       PerformanceSettlement settlement, MarketFailures failures, AuditLog audit, EventPublisher events, Clock clock,
                       DataSource dataSource) {
        this.tasks = tasks;
        this.market = market;
        this.services = services;
        this.escrows = escrows;
        this.settlement = settlement;
        this.failures = failures;
        this.kind = new MarketFailures.Kind<>("task", "taskId", "MARKET_TASK", AUCTIONEER,
                MarketStore.OutcomeKind.TASK, tasks::lock, tasks::update, (t, who) -> true, "poster",
                "winner", "MARKET_POSTER_ONLY", "MARKET_WINNER_ONLY", "MARKET_TASK_FAILED", (t, quality) -> { });
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
            if (!tasks.insert(task, dev.agentescrow.backend.transfer.DerivedIds.newSecret())) {
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

    /**
     * Whether {@code who} may read the task's result reference: the poster (who paid for the work),
     * the winner, the evaluator and the escrow's arbiter (who decides a dispute over it). Everyone
     * else sees the task without it: the work is not handed to those who did not pay for it.
     */
    public boolean seesResult(MarketTask t, Address who) {
        if (who.equals(t.poster()) || who.equals(t.winner()) || who.equals(t.evaluator())) {
            return true;
        }
        return t.escrowId() != null && escrows.find(t.escrowId()).map(e -> e.arbiter().equals(who)).orElse(false);
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
        if (found.isPresent() && failures.due(found.get(), clock.instant())) {
            found = Optional.of(settle(id));
        }
        return found;
    }

    private boolean due(MarketTask t) {
        return t.state() == MarketTask.State.OPEN && t.biddingClosed(clock.instant());
    }

    /**
     * A sealed bid of {@code ask} by {@code bidder}: refused above the maximum base price, after the
     * window, without an active service covering the capabilities, a second time, by the poster, or
     * beyond the task's {@link MarketTask#MAX_BIDS} bids.
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
            // an exclusive lock: bids on one task queue, so the count below is exact
            MarketTask t = tasks.lock(id).orElseThrow();
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
            if (tasks.bidCount(id) >= MarketTask.MAX_BIDS) {
                return Market.Result.refused(409, "MARKET_TOO_MANY_BIDS", "the task has " + MarketTask.MAX_BIDS
                        + " bids, the most it takes");
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
            // one task that fails (its transaction rolled back) must not hold up those behind it: the
            // oldest come first, so it would meet every sweep first and end each one
            try {
                if (allocate(id).state() != MarketTask.State.OPEN) {
                    closed++;
                }
            } catch (RuntimeException e) {
                log.warn("task {}: the allocation failed, tried again at the next sweep", id, e);
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
            MarketTask t = tasks.lock(id).orElseThrow();
            Instant now = clock.instant();
            if (t.state() != MarketTask.State.OPEN || !t.biddingClosed(now)) {
                return t;
            }
            List<MarketTask.Bid> bids = tasks.bids(id);
            if (bids.isEmpty()) {
                return unallocated(t, now, "NO_BIDS");
            }
            // ranked on the reputations as of the close: a retry after a crash (the escrow's funding committed in
            // the ledger, this transaction lost) ranks alike and funds the same amount, which the ledger answers EXISTS
            List<ReverseVickreyAuction.Bid> sealed = bids.stream().map(b -> new ReverseVickreyAuction.Bid(
                    b.bidder().hex(), b.ask(), services.reputationBonusAsOf(b.bidder(), t.biddingClosesAt()),
                    b.sequence())).toList();
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
            Escrows.Result created = escrows.create(t.poster(), MarketIds.taskEscrowKey(id, tasks.escrowSecret(id)), terms);
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
            MarketTask t = tasks.lock(id).orElseThrow();
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

    // ------------------------------------------------------------------ completion and scoring

    /** The winner delivers a result reference, once, while the escrow is FUNDED and before its deadline. */
    public Market.Result<MarketTask> complete(String id, Address caller, String resultRef) {
        catchUp(id);
        return locked(id, (t, status) -> {
            Market.Result<MarketTask> notWinner = MarketFailures.notWorker(kind, t, caller, "completes it");
            if (notWinner != null) {
                return notWinner;
            }
            if (t.state() == MarketTask.State.CLOSED) {
                return MarketFailures.closedRefusal(kind, t);
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
            Optional<MarketTask> locked = tasks.lock(id);
            Market.Result<MarketTask> refusal = scorable(locked, caller);
            if (refusal != null) {
                return refusal;
            }
            MarketTask t = locked.get();
            // the bonus as of the delivery: a scoring retried after a crash that lost its payout's commit pays
            // the same split, which the escrow then finds in the ledger (paid once)
            bonus[0] = services.reputationBonusAsOf(t.winner(), t.completedAt());
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
            Optional<MarketTask> locked = tasks.lock(id);
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

    private Market.Result<MarketTask> scorable(Optional<MarketTask> locked, Address caller) {
        if (locked.isEmpty()) {
            return Market.Result.refused(404, "NOT_FOUND", "task not found");
        }
        MarketTask t = locked.get();
        Market.Result<MarketTask> notRater = MarketFailures.notRater(kind, t, caller);
        if (notRater != null) {
            return notRater;
        }
        if (t.state() == MarketTask.State.CLOSED) {
            return MarketFailures.closedRefusal(kind, t);
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
        return tx.execute(status -> tasks.lock(id).map(t -> action.apply(t, status))
                .orElseGet(() -> Market.Result.refused(404, "NOT_FOUND", "task not found")));
    }

    // ------------------------------------------------------------------ failure, dispute, arbiter (MarketFailures)

    /**
     * The poster (or the task's evaluator) reports that the work failed, from ALLOCATED or
     * COMPLETED: the poster's escrow is disputed in the same transaction, and the winner may dispute
     * until {@code now + disputeWindowSeconds}; undisputed by then the poster is refunded everything
     * ({@link #settle}). Once. The rules are the requests' too ({@link MarketFailures}).
     */
    public Market.Result<MarketTask> reportFailure(String id, Address caller, String detail) {
        catchUp(id);
        return failures.report(kind, id, caller, detail);
    }

    /** The winner disputes a reported failure before its window ends: the platform's arbiter decides. Once. */
    public Market.Result<MarketTask> dispute(String id, Address caller, String detail) {
        catchUp(id);
        return failures.dispute(kind, id, caller, detail);
    }

    /**
     * The platform's arbiter decides a disputed failure: {@code toWinner} (gross, at most what the
     * escrow holds) is paid to the winner, the rest refunded to the poster, through the escrow's
     * resolve in the same transaction. The winner's outcome counts its share of the clearing price
     * as its quality. Once.
     */
    public Market.Result<MarketTask> decide(String id, Address caller, BigInteger toWinner) {
        return failures.decide(kind, id, caller, toWinner);
    }

    /** Settles every running task with something due (the leader's schedule); how many reached a final state. */
    public int settleDue(int limit) {
        return failures.settleAll(kind, tasks.dueSettlements(clock.instant(), limit));
    }

    /**
     * Whatever is due on a running task, under its lock, in one transaction ({@link MarketFailures#settle}):
     * a missed deadline, an undisputed failure's refund, the escrow's own due move, and the final state
     * that says how the escrow ended. Idempotent.
     */
    public MarketTask settle(String id) {
        return failures.settle(kind, id);
    }

    private static PerformancePay.Breakdown pay(MarketTask t, int quality, int accuracy, int bonusBps) {
        return PerformancePay.payout(t.clearingPrice(), t.escrowed(), t.maxMultiplierBps(),
                new PerformancePay.Scores(quality, accuracy, t.elapsed(), t.allowed(), bonusBps));
    }
}
