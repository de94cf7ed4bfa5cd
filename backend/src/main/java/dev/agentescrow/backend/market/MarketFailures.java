package dev.agentescrow.backend.market;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowState;
import dev.agentescrow.backend.escrow.Escrows;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Failures of marketplace work, tasks and direct requests alike (docs/marketplace.md, "Failures,
 * the worker's dispute and the arbiter"): the payer (or the evaluator) reports a failure, which
 * disputes the escrow in the same transaction; the worker may dispute within the window; the
 * platform's arbiter decides a split; undisputed, the payer is refunded after the window; work
 * never delivered by the end of its late window has failed without a window; an escrow that ended
 * by its own rules ends the work with it ({@link EscrowClosure}). Each step locks the work's row
 * and runs its escrow action in the same transaction, so it happens once.
 */
@Component
public class MarketFailures {
    private static final Logger log = LoggerFactory.getLogger(MarketFailures.class);

    /** The steps that end in an audit record {@code <prefix>_<step>} and an event of the same name. */
    enum Step { FAILURE_REPORTED, DISPUTED, FAILED, RESOLVED, CLOSED }

    /**
     * What differs between tasks and requests: names, the row's lock and write, who may see the
     * work, and the codes of the roles.
     *
     * @param noun "task" or "request", in messages
     * @param idKey the id's key in events ({@code taskId}, {@code requestId})
     * @param prefix of audit actions and event types ({@code MARKET_TASK}, {@code MARKET_REQUEST})
     * @param actor the audit principal of the schedule's steps
     * @param sees whether a principal may see the work (others are answered 404)
     * @param payerRole, workerRole the roles' names ("poster", "winner"; "consumer", "provider")
     * @param payerOnly, workerOnly the codes refusing the wrong role
     * @param failedCode the code refusing a step on failed work
     * @param judged what else moves with a verdict on the work (a failure or an arbiter's split) and its
     *               quality 0-200: a request's service record
     */
    public record Kind<W extends MarketWork<W>>(String noun, String idKey, String prefix, String actor,
                                                 MarketStore.OutcomeKind outcome, Function<String, Optional<W>> lock,
                                                 Consumer<W> update, BiPredicate<W, Address> sees, String payerRole,
                                                 String workerRole, String payerOnly, String workerOnly,
                                                 String failedCode, ObjIntConsumer<W> judged) {
        EventType event(Step step) {
            return EventType.valueOf(prefix + "_" + step.name());
        }

        String audit(Step step) {
            return prefix + "_" + step.name();
        }
    }

    private final Escrows escrows;
    private final EscrowClosure closure;
    private final MarketStore market;
    private final AuditLog audit;
    private final EventPublisher events;
    private final Clock clock;
    private final TransactionTemplate tx;

    public MarketFailures(Escrows escrows, EscrowClosure closure, MarketStore market, AuditLog audit,
                          EventPublisher events, Clock clock, DataSource dataSource) {
        this.escrows = escrows;
        this.closure = closure;
        this.market = market;
        this.audit = audit;
        this.events = events;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    // ------------------------------------------------------------------ refusals shared with scoring

    /** Null when {@code caller} is the one who scores or reports failure: the evaluator if named, else the payer. */
    public static <W extends MarketWork<W>, T> Market.Result<T> notRater(Kind<W> k, W w, Address caller) {
        if (w.rater().equals(caller)) {
            return null;
        }
        return w.evaluator() != null
                ? Market.Result.refused(403, "MARKET_EVALUATOR_ONLY", "only the " + k.noun() + "'s evaluator scores"
                        + " it or reports failure")
                : Market.Result.refused(403, k.payerOnly(), "only the " + k.noun() + "'s " + k.payerRole()
                        + " scores it or reports failure");
    }

    /** Null when the work has a worker and it is {@code caller}; else the refusal. */
    public static <W extends MarketWork<W>, T> Market.Result<T> notWorker(Kind<W> k, W w, Address caller, String what) {
        if (w.worker() == null) {
            return Market.Result.refused(409, "MARKET_NOT_ALLOCATED", "the " + k.noun() + " is " + w.phase());
        }
        return w.worker().equals(caller) ? null : Market.Result.refused(403, k.workerOnly(), "only the " + k.noun()
                + "'s " + k.workerRole() + " " + what);
    }

    /** The refusal of any step on CLOSED work: its escrow ended by the escrow's own rules. */
    public static <W extends MarketWork<W>, T> Market.Result<T> closedRefusal(Kind<W> k, W w) {
        return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the " + k.noun() + "'s escrow ended ("
                + w.closed().how() + "): the " + k.noun() + " is closed");
    }

    // ------------------------------------------------------------------ the steps

    /** Under the work's row lock, in one transaction: {@code action} (it may roll back), or 404 for one who may not see it. */
    private <W extends MarketWork<W>> Market.Result<W> locked(Kind<W> k, String id, Address caller,
            java.util.function.BiFunction<W, org.springframework.transaction.TransactionStatus, Market.Result<W>> action) {
        return tx.execute(status -> k.lock().apply(id).filter(w -> caller == null || k.sees().test(w, caller))
                .map(w -> action.apply(w, status))
                .orElseGet(() -> Market.Result.refused(404, "NOT_FOUND", k.noun() + " not found")));
    }

    /**
     * The payer (or the evaluator) reports that the work failed, while RUNNING or DELIVERED: the
     * payer's escrow is disputed in the same transaction (frozen for the arbiter), and the worker
     * may dispute until {@code now + disputeWindowSeconds}; undisputed by then the payer is refunded
     * everything ({@link #settle}). Once.
     */
    public <W extends MarketWork<W>> Market.Result<W> report(Kind<W> k, String id, Address caller, String detail) {
        return locked(k, id, caller, (w, status) -> {
            Market.Result<W> notRater = notRater(k, w, caller);
            if (notRater != null) {
                return notRater;
            }
            if (w.phase() == MarketWork.Phase.CLOSED) {
                return closedRefusal(k, w);
            }
            if (w.phase() == MarketWork.Phase.UNASSIGNED) {
                return Market.Result.refused(409, "MARKET_NOT_ALLOCATED", "the " + k.noun() + " is " + w.phase());
            }
            if (w.failure() != null) {
                return Market.Result.refused(409, k.failedCode(), "the " + k.noun() + " is " + w.phase());
            }
            if (w.phase() == MarketWork.Phase.SCORED) {
                return Market.Result.refused(409, "MARKET_ALREADY_SCORED", "the " + k.noun() + " was scored already");
            }
            Instant now = clock.instant();
            Escrows.Result disputed = escrows.dispute(w.escrowId(), w.payer(), "market " + k.noun() + " " + id
                    + ": failure reported");
            if (!disputed.ok()) {
                status.setRollbackOnly();
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the " + k.noun() + "'s escrow cannot be held"
                        + " for the arbiter: " + disputed.code());
            }
            W reported = w.failureReported(now, detail);
            k.update().accept(reported);
            audit.record(caller.hex(), k.audit(Step.FAILURE_REPORTED), auditObject(k), id, w.token().hex(), null);
            events.publish(k.event(Step.FAILURE_REPORTED), List.of(w.payer(), w.worker()), id, Map.of(
                    k.idKey(), id, "reportedBy", caller.checksummed(), "detail", detail,
                    "disputeWindowEnds", reported.failure().windowEnds().toString()));
            return Market.Result.ok(reported);
        });
    }

    /** The worker disputes a reported failure before its window ends: the platform's arbiter decides. Once. */
    public <W extends MarketWork<W>> Market.Result<W> dispute(Kind<W> k, String id, Address caller, String detail) {
        return locked(k, id, caller, (w, status) -> {
            Market.Result<W> notWorker = notWorker(k, w, caller, "disputes a failure");
            if (notWorker != null) {
                return notWorker;
            }
            if (w.phase() == MarketWork.Phase.CLOSED) {
                return closedRefusal(k, w);
            }
            if (w.phase() == MarketWork.Phase.DISPUTED || w.phase() == MarketWork.Phase.RESOLVED) {
                return Market.Result.refused(409, "MARKET_ALREADY_DISPUTED", "the failure was disputed already");
            }
            if (w.phase() == MarketWork.Phase.FAILED && w.failure().reason() == MarketTask.FailureReason.REPORTED) {
                return Market.Result.refused(422, "MARKET_DISPUTE_WINDOW_CLOSED", "the dispute window closed at "
                        + w.failure().windowEnds());
            }
            if (w.phase() != MarketWork.Phase.FAILURE_REPORTED) {
                return Market.Result.refused(409, "MARKET_NO_FAILURE_REPORTED", "no failure is reported for the "
                        + k.noun() + " (it is " + w.phase() + ")");
            }
            Instant now = clock.instant();
            if (now.isAfter(w.failure().windowEnds())) {
                return Market.Result.refused(422, "MARKET_DISPUTE_WINDOW_CLOSED", "the dispute window closed at "
                        + w.failure().windowEnds());
            }
            W disputed = w.disputed(now, detail);
            k.update().accept(disputed);
            Escrow escrow = escrows.find(w.escrowId()).orElseThrow();
            audit.record(caller.hex(), k.audit(Step.DISPUTED), auditObject(k), id, w.token().hex(), null);
            events.publish(k.event(Step.DISPUTED), List.of(w.payer(), w.worker(), escrow.arbiter()), id,
                    Map.of(k.idKey(), id, "detail", detail, "arbiter", escrow.arbiter().checksummed(),
                            "arbitrationDeadline", String.valueOf(escrow.arbitrationDeadline())));
            return Market.Result.ok(disputed);
        });
    }

    /**
     * The platform's arbiter decides a disputed failure: {@code toWorker} (gross, at most what the
     * escrow holds) is paid to the worker, the rest refunded to the payer, through the escrow's
     * resolve in the same transaction. The worker's outcome counts its share of the base as its
     * quality. Once.
     */
    public <W extends MarketWork<W>> Market.Result<W> decide(Kind<W> k, String id, Address caller, BigInteger toWorker) {
        return locked(k, id, null, (w, status) -> {
            Escrow escrow = w.escrowId() == null ? null : escrows.find(w.escrowId()).orElseThrow();
            if (escrow == null || !escrow.arbiter().equals(caller)) {
                return k.sees().test(w, caller) ? Market.Result.refused(403, "MARKET_ARBITER_ONLY", "only the"
                        + " platform's arbiter decides a disputed " + k.noun())
                        : Market.Result.refused(404, "NOT_FOUND", k.noun() + " not found");
            }
            if (w.phase() == MarketWork.Phase.CLOSED) {
                return closedRefusal(k, w);
            }
            if (w.phase() == MarketWork.Phase.RESOLVED) {
                return Market.Result.refused(409, "MARKET_ALREADY_DECIDED", "the arbiter decided already");
            }
            if (w.phase() != MarketWork.Phase.DISPUTED) {
                return Market.Result.refused(409, "MARKET_NOT_DISPUTED", "the " + k.noun() + " is " + w.phase());
            }
            if (toWorker.compareTo(w.escrowed()) > 0) {
                return Market.Result.refused(422, "MARKET_SPLIT_ABOVE_ESCROW", "the escrow holds " + w.escrowed());
            }
            Instant now = clock.instant();
            Escrows.Result resolved = escrows.resolve(w.escrowId(), caller, toWorker.signum() > 0
                    ? Map.of(0, toWorker) : Map.of(), w.escrowed().subtract(toWorker));
            if (!resolved.ok()) {
                status.setRollbackOnly();
                return Market.Result.refused(409, "MARKET_ESCROW_CLOSED", "the " + k.noun() + "'s escrow cannot be"
                        + " resolved: " + resolved.code());
            }
            W decided = w.resolved(now, toWorker);
            k.update().accept(decided);
            recordOutcome(k, decided, now);
            audit.record(caller.hex(), k.audit(Step.RESOLVED), auditObject(k), id, w.token().hex(), toWorker);
            events.publish(k.event(Step.RESOLVED), List.of(w.payer(), w.worker()), id, Map.of(k.idKey(), id,
                    "toWinner", toWorker.toString(), "payout", toWorker.toString(), "refund", decided.refund().toString(),
                    "escrowId", w.escrowId()));
            return Market.Result.ok(decided);
        });
    }

    // ------------------------------------------------------------------ what falls due

    /** Whether a failure is due at {@code now}: a missed late window (the escrow's deadline), or an ended dispute window. */
    private static boolean failureDue(MarketWork<?> w, Escrow escrow, Instant now) {
        return (w.phase() == MarketWork.Phase.RUNNING && escrow.state() == EscrowState.FUNDED
                && now.isAfter(escrow.deadline()))
                || (w.phase() == MarketWork.Phase.FAILURE_REPORTED && now.isAfter(w.failure().windowEnds()));
    }

    /** Whether something is due on running work: a failure, or its escrow ended or due on its own schedule. */
    public boolean due(MarketWork<?> w, Instant now) {
        if (w.phase().isFinal() || w.phase() == MarketWork.Phase.UNASSIGNED) {
            return false;
        }
        Escrow escrow = escrows.find(w.escrowId()).orElseThrow();
        return failureDue(w, escrow, now) || EscrowClosure.endedOrDue(escrow, now);
    }

    /**
     * Under the work's lock, in one transaction, whatever is due on it: work never delivered by the
     * end of its late window has missed its deadline (no dispute window): the payer's escrow is
     * refunded at once; a reported failure whose dispute window ended undisputed is refunded through
     * the arbiter's resolve; an escrow whose grace or arbitration period ended gets its own due move
     * (the refund, the fallback) in this transaction. Then, once the escrow has ended (by these moves
     * or earlier by another way), the work takes the final state that says how
     * ({@link MarketWork#settledBy}), with the worker's outcome where the rules count one, an audit
     * record and an event. Idempotent: work already final, or whose escrow still runs, is returned
     * as it is.
     */
    public <W extends MarketWork<W>> W settle(Kind<W> k, String id) {
        return tx.execute(status -> {
            W w = k.lock().apply(id).orElseThrow();
            Instant now = clock.instant();
            if (w.phase().isFinal() || w.phase() == MarketWork.Phase.UNASSIGNED) {
                return w;
            }
            Escrow escrow = escrows.find(w.escrowId()).orElseThrow();
            if (!escrow.state().isFinal() && !EscrowClosure.due(escrow, now) && failureDue(w, escrow, now)) {
                Escrows.Result refunded = w.phase() == MarketWork.Phase.RUNNING
                        ? escrows.refund(w.escrowId(), w.payer())
                        : escrows.resolve(w.escrowId(), escrow.arbiter(), Map.of(), escrow.held());
                if (!refunded.ok()) {
                    // e.g. the escrow is in a state the failure cannot move (disputed through the escrow API):
                    // its own periods end it, and the work follows at the next trigger after that
                    status.setRollbackOnly();
                    log.info("{} {}: the escrow refused the failure's refund ({}); tried again later", k.noun(), id,
                            refunded.code());
                    return w;
                }
            }
            Optional<EscrowClosure.Closure> ended = closure.settle(w.escrowId(), now, status::setRollbackOnly);
            if (ended.isEmpty()) {
                return w;
            }
            W after = w.settledBy(ended.get(), now);
            k.update().accept(after);
            recordOutcome(k, after, now);
            Step step = switch (after.phase()) {
                case FAILED -> Step.FAILED;
                case RESOLVED -> Step.RESOLVED;
                default -> Step.CLOSED;
            };
            audit.record(k.actor(), k.audit(step), auditObject(k), id, w.token().hex(), after.refund());
            Map<String, Object> data = new LinkedHashMap<>(Map.of(k.idKey(), id, "payout", after.payout().toString(),
                    "refund", after.refund().toString(), "escrowId", w.escrowId()));
            switch (step) {
                case FAILED -> data.put("reason", after.failure().reason().name());
                case RESOLVED -> data.put("toWinner", after.payout().toString());
                default -> {
                    data.put("closure", after.closed().how().name());
                    data.put("from", w.phase().name());
                }
            }
            events.publish(k.event(step), List.of(w.payer(), w.worker()), id, data);
            return after;
        });
    }

    /** Settles each of {@code ids} in turn ({@link #settle}); how many reached a final state. */
    public <W extends MarketWork<W>> int settleAll(Kind<W> k, List<String> ids) {
        int settled = 0;
        for (String id : ids) {
            // one that fails must not hold up those behind it (the oldest come first, every sweep)
            try {
                if (settle(k, id).phase().isFinal()) {
                    settled++;
                }
            } catch (RuntimeException e) {
                log.warn("{}: the scheduled settlement failed, tried again at the next sweep", id, e);
            }
        }
        return settled;
    }

    /**
     * The worker's outcome of work that reached a final state other than SCORED: a missed deadline
     * ({@code DEADLINE_MISSED}, late, the payer's word), an undisputed failure ({@code FAILED},
     * quality 0), an arbiter's split, through the marketplace or the escrow API ({@code RESOLVED},
     * its share of the base as quality), with {@link Kind#judged}. An escrow that ended by its own periods or the payer's
     * release (CLOSED: EXPIRED, FALLBACK, RELEASED) is nobody's word on the work: no outcome.
     */
    private <W extends MarketWork<W>> void recordOutcome(Kind<W> k, W w, Instant now) {
        boolean arbiter = w.phase() == MarketWork.Phase.RESOLVED
                || (w.phase() == MarketWork.Phase.CLOSED && w.closed().how() == EscrowClosure.How.ARBITER);
        if (arbiter) {
            int quality = w.payout().multiply(BigInteger.valueOf(100)).divide(w.base())
                    .min(BigInteger.valueOf(PerformancePay.QUALITY_MAX)).intValueExact();
            market.addOutcome(w.worker(), w.rater(), k.outcome(), w.id(), MarketStore.OutcomeResult.RESOLVED, quality,
                    false, now);
            k.judged().accept(w, quality);
        } else if (w.phase() == MarketWork.Phase.FAILED) {
            boolean missed = w.failure().reason() == MarketTask.FailureReason.DEADLINE_MISSED;
            market.addOutcome(w.worker(), missed ? w.payer() : w.rater(), k.outcome(), w.id(),
                    missed ? MarketStore.OutcomeResult.DEADLINE_MISSED : MarketStore.OutcomeResult.FAILED, 0, missed,
                    now);
            k.judged().accept(w, 0);
        }
    }

    private static String auditObject(Kind<?> k) {
        return "market_" + k.noun();
    }
}
