package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.fee.FeeCharge;
import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.backend.fee.FeeSource;
import dev.agentescrow.backend.fee.FeeType;
import dev.agentescrow.backend.fee.Fees;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Ledger-custody escrows: creation (the payer's funds move at once into the escrow's own ledger
 * account) and every action of the contract's state machine ({@link EscrowRules}).
 *
 * <p><b>Exactly once.</b> Each action runs in one database transaction that first locks the
 * escrow's row, so concurrent actions on one escrow (on any instance) queue; it decides on the
 * state it then sees, pays through the ledger with transfer ids derived from (escrow, its secret
 * salt, action, part, the escrow's next version: {@link EscrowIds}) and waits for the ledger's
 * commit, then writes the new state, the history entry and the audit record, and commits. A second
 * release of the same share finds the share released; a retry after a crash between the ledger's
 * commit and this commit derives the same ids and the ledger answers EXISTS, so nothing is paid
 * twice. (A retried request with the same Idempotency-Key is answered from the idempotency store
 * before it gets here.)
 */
@Component
public class Escrows {
    /** The actor of the service's own moves (expiry, fallback). */
    public static final String SCHEDULER = "scheduler";

    private final EscrowStore store;
    private final EscrowMoney money;
    private final AuditLog audit;
    private final EscrowSettings settings;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final Fees fees;

    public Escrows(EscrowStore store, EscrowMoney money, AuditLog audit, EscrowSettings settings, Clock clock,
                   DataSource dataSource, Fees fees) {
        this.fees = fees;
        this.store = store;
        this.money = money;
        this.audit = audit;
        this.settings = settings;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
    }

    /**
     * A new escrow's terms, checked field by field already. {@code evaluator} null for none;
     * {@code maxFeeBps} the most the payer accepts for both fees together; {@code source} what the
     * escrow funds (for the fee report).
     */
    public record Terms(Address token, List<Address> payees, List<BigInteger> shares, Instant deadline,
                        long graceSeconds, long arbitrationSeconds, Address arbiter, Address evaluator,
                        String termsHash, boolean atomic, int maxFeeBps, FallbackRule fallback, FeeSource source) {
        public Terms {
            java.util.Objects.requireNonNull(source, "source");
        }

        /** Terms of a plain escrow ({@link FeeSource#ESCROW}). */
        public Terms(Address token, List<Address> payees, List<BigInteger> shares, Instant deadline,
                     long graceSeconds, long arbitrationSeconds, Address arbiter, Address evaluator,
                     String termsHash, boolean atomic, int maxFeeBps, FallbackRule fallback) {
            this(token, payees, shares, deadline, graceSeconds, arbitrationSeconds, arbiter, evaluator, termsHash,
                    atomic, maxFeeBps, fallback, FeeSource.ESCROW);
        }

        public BigInteger amount() {
            return shares.stream().reduce(BigInteger.ZERO, BigInteger::add);
        }
    }

    /** The outcome of a create or an action: the escrow after it, or a refusal (HTTP status, code, message). */
    public record Result(Escrow escrow, int status, String code, String message) {
        static Result ok(Escrow escrow) {
            return new Result(escrow, 200, null, null);
        }

        static Result refused(int status, String code, String message) {
            return new Result(null, status, code, message);
        }

        static Result refused(EscrowRules.Refusal refusal) {
            return refused(refusal.status(), refusal.code(), refusal.message());
        }

        public boolean ok() {
            return escrow != null;
        }
    }

    /** The platform fee in force for new escrows, bps. */
    public int feeBps() {
        return fees.rates().platformBps();
    }

    /** Both fees in force for new escrows ({@link Fees#rates()}). */
    public FeeRates feeRates() {
        return fees.rates();
    }

    /** Both fees together in force for new escrows: the least {@code maxFeeBps} a create must accept. */
    public int totalFeeBps() {
        return fees.rates().totalBps();
    }

    public Optional<Address> platformArbiter() {
        String arbiter = settings.arbiter();
        return arbiter == null || arbiter.isBlank() ? Optional.empty() : Optional.of(Address.of(arbiter));
    }

    public EscrowSettings settings() {
        return settings;
    }

    /**
     * Creates and funds an escrow for {@code payer}; its id derives from (payer, Idempotency-Key),
     * so a create retried after a lost answer finds the same escrow (and its funding transfer).
     */
    public Result create(Address payer, String idempotencyKey, Terms terms) {
        Instant now = clock.instant();
        FeeRates rates = fees.rates();
        if (rates.totalBps() > terms.maxFeeBps()) {
            return Result.refused(422, "ESCROW_FEE_ABOVE_MAX", "the fees are " + rates.totalBps() + " bps (platform "
                    + rates.platformBps() + ", protocol " + rates.protocolBps() + "), above the maximum of "
                    + terms.maxFeeBps() + " bps");
        }
        if (!terms.deadline().isAfter(now)) {
            return Result.refused(422, "ESCROW_DEADLINE_PASSED", "the deadline must be in the future");
        }
        if (terms.deadline().isAfter(now.plus(settings.maxDuration()))) {
            return Result.refused(422, "ESCROW_DEADLINE_TOO_FAR", "the deadline may be at most "
                    + settings.maxDuration().toDays() + " days ahead");
        }
        if (terms.arbiter().equals(payer) || terms.payees().contains(terms.arbiter())) {
            return Result.refused(422, "ESCROW_INVALID_ARBITER", "the arbiter is neither the payer nor a payee");
        }
        String id = EscrowIds.escrowId(payer, idempotencyKey);
        List<Escrow.Payee> payees = new ArrayList<>();
        for (int i = 0; i < terms.payees().size(); i++) {
            payees.add(new Escrow.Payee(i, terms.payees().get(i), terms.shares().get(i), BigInteger.ZERO, null));
        }
        Address evaluator = payer.equals(terms.evaluator()) ? null : terms.evaluator();
        Escrow escrow = new Escrow(id, EscrowState.OPEN, payer, terms.token(), terms.arbiter(), evaluator,
                terms.deadline(), terms.graceSeconds(), terms.arbitrationSeconds(), null, rates.platformBps(),
                terms.maxFeeBps(), terms.fallback(), terms.atomic(), terms.termsHash(), terms.amount(), terms.amount(),
                BigInteger.ZERO, 1, now, now, payees, rates.protocolBps(), terms.source());
        return tx.execute(status -> {
            if (!store.insert(escrow, DerivedIds.newSecret())) {
                Escrow existing = store.find(id).orElseThrow(() -> new IllegalStateException(
                        "escrow " + id + " exists and is not readable"));
                return sameTerms(existing, escrow) ? Result.ok(existing) : Result.refused(422, "ESCROW_ID_CONFLICT",
                        "an escrow with other terms was created under this Idempotency-Key");
            }
            TransferId fundId = EscrowIds.fund(id);
            TransferReceipt receipt = money.fund(payer, fundId, id, terms.token(), terms.amount());
            if (!receipt.committed()) {
                status.setRollbackOnly();
                return fundingRefused(receipt.result());
            }
            store.history(id, new EscrowStore.HistoryEntry(1, EscrowAction.CREATED, payer.hex(), null, null,
                    EscrowState.OPEN, null, now, List.of(new EscrowStore.TransferPart(fundId.toUuid(), "FUND", -1,
                    payer, terms.amount(), receipt.seq()))));
            audit.record(payer.hex(), "ESCROW_CREATED", "escrow", id, terms.token().hex(), terms.amount());
            return Result.ok(escrow);
        });
    }

    /** Whether a retried create names the terms of the escrow its key created. */
    private static boolean sameTerms(Escrow a, Escrow b) {
        return a.token().equals(b.token()) && a.amount().equals(b.amount()) && a.deadline().equals(b.deadline())
                && a.arbiter().equals(b.arbiter()) && java.util.Objects.equals(a.evaluator(), b.evaluator())
                && a.fallback() == b.fallback() && a.atomic() == b.atomic() && a.termsHash().equals(b.termsHash())
                && a.graceSeconds() == b.graceSeconds() && a.arbitrationSeconds() == b.arbitrationSeconds()
                && a.maxFeeBps() == b.maxFeeBps() && a.feeSource() == b.feeSource()
                && a.payees().stream().map(p -> p.account().hex() + ":" + p.share()).toList()
                        .equals(b.payees().stream().map(p -> p.account().hex() + ":" + p.share()).toList());
    }

    private static Result fundingRefused(TransferResult result) {
        return switch (result) {
            case EXISTS_WITH_DIFFERENT_CONTENT -> Result.refused(409, "ESCROW_ACTION_CONFLICT",
                    "a different funding transfer with this escrow's id was committed earlier");
            case TOO_MANY_ACCOUNTS, TOO_MANY_PENDING -> Result.refused(503, result.name(),
                    "the ledger is at its configured capacity");
            case INSUFFICIENT_FUNDS -> Result.refused(422, result.name(),
                    "the available balance is smaller than the sum of the shares");
            default -> Result.refused(422, result.name(), "the ledger refused the funding: " + result.name());
        };
    }

    /** The escrow if {@code who} is one of its parties (else empty: another principal's escrow is not found). */
    public Optional<Escrow> visible(String id, Address who) {
        return store.find(id).filter(e -> !e.rolesOf(who).isEmpty());
    }

    /** The escrow, whoever asks (the caller decides what it may see). */
    public Optional<Escrow> find(String id) {
        return store.find(id);
    }

    public List<EscrowStore.HistoryEntry> history(String id) {
        return store.history(id);
    }

    public List<EscrowStore.Listed> list(Address who, EscrowRole role, EscrowState state, long before, int limit) {
        return store.list(who, role, state, before, limit);
    }

    // ------------------------------------------------------------------ actions

    public Result accept(String id, Address caller) {
        return act(id, caller, (e, now) -> EscrowRules.accept(e, caller, now), "accepted by the payee");
    }

    public Result cancel(String id, Address caller) {
        return act(id, caller, (e, now) -> EscrowRules.cancel(e, caller), "cancelled by the payer before acceptance");
    }

    public Result release(String id, Address caller, List<EscrowRules.Release> releases) {
        return act(id, caller, (e, now) -> EscrowRules.release(e, caller, releases), "released");
    }

    public Result refund(String id, Address caller) {
        return act(id, caller, (e, now) -> EscrowRules.refund(e, caller, now), "refunded after the deadline");
    }

    public Result dispute(String id, Address caller, String reason) {
        return act(id, caller, (e, now) -> EscrowRules.dispute(e, caller, now), reason == null || reason.isBlank()
                ? "disputed" : reason);
    }

    public Result resolve(String id, Address caller, Map<Integer, BigInteger> payees, BigInteger payer) {
        return act(id, caller, (e, now) -> EscrowRules.resolve(e, caller, now, payees, payer), "resolved by the arbiter");
    }

    public Result fallback(String id, Address caller) {
        return act(id, caller, (e, now) -> EscrowRules.fallback(e, now), "fallback after the arbitration deadline");
    }

    /**
     * The scheduler's move on a due escrow: the refund after the grace period, or the fallback
     * after the arbitration deadline. Skips (empty) an escrow another transaction holds.
     */
    public Optional<Result> settleDue(String id) {
        Result result = act(id, null, (e, now) -> e.state() == EscrowState.DISPUTED ? EscrowRules.fallback(e, now)
                : EscrowRules.refund(e, null, now), "by the service's schedule");
        return result.code() != null && result.code().equals("SKIPPED") ? Optional.empty() : Optional.of(result);
    }

    /** Escrows whose refund or fallback is due by the schedule now (after the configured lag). */
    public List<String> due(int limit) {
        return store.due(clock.instant().minus(settings.expiryLag()), limit);
    }

    /**
     * One action: lock, decide, pay, record, in one transaction (after the recovery of a lost
     * commit's payouts, if the ledger holds any, in one before it). {@code caller} null is the
     * scheduler (skips a locked escrow). A caller who is not a party gets 404 unless the action
     * is open to anyone now (refund after the grace period, the fallback).
     */
    private Result act(String id, Address caller, BiFunction<Escrow, Instant, EscrowRules.Decision> rule,
                       String reason) {
        // A recovery of a lost commit's payouts commits in a transaction of its own, before the action is
        // decided against the recovered escrow in the next: in one transaction, an action then refused
        // (or failing) rolled the recovery back with it, so an escrow whose lost action had ended it
        // (resolved, refunded) kept its old state for good, every later action and the schedule's
        // refund or fallback refused against the state the ledger had already left. At most one
        // recovery precedes an action: it leaves the row at the ledger's state.
        Result result = tx.execute(status -> actOnce(id, caller, rule, reason, true, status));
        return result != RECOVERED ? result : tx.execute(status -> actOnce(id, caller, rule, reason, false, status));
    }

    /** {@link #actOnce}'s answer when it recorded a lost commit's payouts and committed: decide the action next. */
    private static final Result RECOVERED = Result.refused(409, "RECOVERED", "a lost commit was recovered");

    private Result actOnce(String id, Address caller, BiFunction<Escrow, Instant, EscrowRules.Decision> rule,
                           String reason, boolean mayRecover, org.springframework.transaction.TransactionStatus status) {
        Optional<Escrow> locked = store.lock(id, caller == null);
        if (locked.isEmpty()) {
            return caller == null ? Result.refused(409, "SKIPPED", "held by another transaction")
                    : Result.refused(404, "NOT_FOUND", "escrow not found");
        }
        Instant now = clock.instant();
        Escrow e = locked.get();
        Optional<Orphan> orphan = orphan(e, now);
        if (orphan.isPresent()) {
            if (!mayRecover) {
                throw new IllegalStateException("escrow " + id + " found payouts of a lost commit again right after"
                        + " recording them");
            }
            Orphan o = orphan.get();
            EscrowRules.Decision again = rule.apply(e, now);
            boolean retry = !again.refused() && again.plan().action() == o.action()
                    && o.sameAs(again.plan().payouts());
            String actor = retry ? (caller == null ? SCHEDULER : caller.hex()) : "recovery";
            String ruleName = retry ? (again.plan().rule() != null ? again.plan().rule().name()
                    : again.plan().payerRule()) : "RECOVERED";
            store.applied(o.after(), new EscrowStore.HistoryEntry(o.after().version(), o.action(), actor, ruleName,
                    e.state(), o.after().state(), retry ? reason
                    : "payouts found in the ledger after a lost commit", now, o.parts()));
            recordFees(e, o.parts(), now);
            audit.record(actor, "ESCROW_" + o.action().name(), "escrow", id, e.token().hex(), o.paid());
            return retry ? Result.ok(o.after()) : RECOVERED;
        }
        EscrowRules.Decision decision = rule.apply(e, now);
        if (decision.refused()) {
            status.setRollbackOnly();
            return caller != null && e.rolesOf(caller).isEmpty()
                    ? Result.refused(404, "NOT_FOUND", "escrow not found") : Result.refused(decision.refusal());
        }
        EscrowRules.Plan plan = decision.plan();
        int seq = e.version() + 1;
        String actor = caller == null ? SCHEDULER : caller.hex();
        List<TransferId> ids = new ArrayList<>();
        String salt = plan.payouts().isEmpty() ? null : store.transferSalt(id);
        for (EscrowRules.Payout payout : plan.payouts()) {
            String part = payout.kind() == EscrowRules.Payout.Kind.PAYER ? "payer"
                    : payout.kind().name().toLowerCase(java.util.Locale.ROOT) + ":" + payout.index();
            ids.add(EscrowIds.transfer(id, salt, plan.action(), part, seq));
        }
        List<EscrowStore.TransferPart> parts = new ArrayList<>();
        if (!plan.payouts().isEmpty()) {
            List<TransferReceipt> receipts = money.payOut(e, plan, ids, actor, reason);
            for (int i = 0; i < receipts.size(); i++) {
                TransferReceipt receipt = receipts.get(i);
                if (!receipt.committed()) {
                    status.setRollbackOnly();
                    if (receipt.result() == TransferResult.EXISTS_WITH_DIFFERENT_CONTENT) {
                        return Result.refused(409, "ESCROW_ACTION_CONFLICT",
                                "the ledger holds a different transfer under this action's id");
                    }
                    throw new IllegalStateException("the ledger refused payout " + i + " of escrow " + id + ": "
                            + receipt.result() + " (the escrow's row and its ledger account disagree)");
                }
                EscrowRules.Payout payout = plan.payouts().get(i);
                parts.add(new EscrowStore.TransferPart(ids.get(i).toUuid(), payout.kind().name(), payout.index(),
                        payout.to(), payout.amount(), receipt.seq()));
            }
        }
        Escrow after = apply(e, plan, now, seq);
        String ruleName = plan.rule() != null ? plan.rule().name() : plan.payerRule();
        store.applied(after, new EscrowStore.HistoryEntry(seq, plan.action(), actor, ruleName, e.state(), after.state(),
                reason, now, parts));
        recordFees(e, parts, now);
        audit.record(actor, "ESCROW_" + plan.action().name(), "escrow", id, e.token().hex(),
                plan.payouts().isEmpty() ? null : plan.paidOut());
        return Result.ok(after);
    }

    /** An action whose payouts are in the ledger but not in the row: the escrow after it, and its transfers. */
    private record Orphan(EscrowAction action, Escrow after, List<EscrowStore.TransferPart> parts, BigInteger paid) {
        /** Whether {@code payouts} are exactly these transfers (a retry of the same action). */
        boolean sameAs(List<EscrowRules.Payout> payouts) {
            List<String> planned = payouts.stream().map(p -> p.kind() + ":" + p.index() + ":" + p.amount()).sorted().toList();
            List<String> found = parts.stream().map(p -> p.kind() + ":" + p.index() + ":" + p.amount()).sorted().toList();
            return planned.equals(found);
        }
    }

    /** The actions whose payouts {@link #orphan} looks for. */
    private static final List<EscrowAction> PAYING = List.of(EscrowAction.RELEASED, EscrowAction.CANCELLED,
            EscrowAction.REFUNDED, EscrowAction.RESOLVED, EscrowAction.FALLBACK_APPLIED);

    /**
     * The last action, if its payouts reached the ledger but its row did not (a crash between the
     * ledger's commit and this service's): then the escrow's ledger account holds less than the
     * row says, and the payouts sit under the ids derived for the row's next version (with the
     * escrow's salt; an escrow created before it has none, and its ids are those it was made with).
     * The caller writes them into the row and the history before anything else is decided: a retry
     * of that action answers them (paid once), a different action is decided on the escrow after
     * them (never paying from money that has left, never losing the payouts from the history).
     */
    private Optional<Orphan> orphan(Escrow e, Instant now) {
        if (e.state().isFinal() || money.held(e).equals(e.held())) {
            return Optional.empty();
        }
        int seq = e.version() + 1;
        String salt = store.transferSalt(e.id());
        for (EscrowAction action : PAYING) {
            List<EscrowStore.TransferPart> parts = new ArrayList<>();
            java.util.Map<Integer, BigInteger> gross = new java.util.HashMap<>();
            BigInteger paid = BigInteger.ZERO;
            BigInteger fees = BigInteger.ZERO;
            List<String> names = new ArrayList<>(List.of("payer"));
            for (Escrow.Payee p : e.payees()) {
                names.add("payee:" + p.index());
                names.add("fee:" + p.index());
                names.add("protocol_fee:" + p.index());
            }
            for (String name : names) {
                TransferId id = EscrowIds.transfer(e.id(), salt, action, name, seq);
                Optional<dev.agentescrow.batcher.read.TransferRecord> found = money.committed(id);
                if (found.isEmpty()) {
                    continue;
                }
                BigInteger amount = found.get().amount();
                int index = name.equals("payer") ? -1 : Integer.parseInt(name.substring(name.indexOf(':') + 1));
                String kind = name.equals("payer") ? "PAYER" : name.startsWith("fee") ? "FEE"
                        : name.startsWith("protocol_fee") ? "PROTOCOL_FEE" : "PAYEE";
                boolean fee = kind.equals("FEE") || kind.equals("PROTOCOL_FEE");
                Address to = fee ? null : found.get().credit().owner();
                parts.add(new EscrowStore.TransferPart(id.toUuid(), kind, index, to, amount, found.get().seq()));
                paid = paid.add(amount);
                if (fee) {
                    fees = fees.add(amount);
                }
                if (index >= 0) {
                    gross.merge(index, amount, BigInteger::add);
                }
            }
            if (parts.isEmpty()) {
                continue;
            }
            BigInteger held = e.held().subtract(paid);
            EscrowState to = switch (action) {
                case RELEASED -> held.signum() == 0 ? EscrowState.COMPLETED : EscrowState.FUNDED;
                case CANCELLED -> EscrowState.REJECTED;
                case REFUNDED -> EscrowState.EXPIRED;
                default -> EscrowState.RESOLVED;
            };
            List<Escrow.Payee> payees = e.payees().stream().map(p -> new Escrow.Payee(p.index(), p.account(), p.share(),
                    p.released().add(gross.getOrDefault(p.index(), BigInteger.ZERO)), p.acceptedAt())).toList();
            Escrow after = new Escrow(e.id(), to, e.payer(), e.token(), e.arbiter(), e.evaluator(), e.deadline(),
                    e.graceSeconds(), e.arbitrationSeconds(), e.arbitrationDeadline(), e.feeBps(), e.maxFeeBps(),
                    e.fallback(), e.atomic(), e.termsHash(), e.amount(), held, e.feesPaid().add(fees), seq,
                    e.createdAt(), now, payees, e.protocolFeeBps(), e.feeSource());
            return Optional.of(new Orphan(action, after, parts, paid));
        }
        throw new IllegalStateException("escrow " + e.id() + " holds " + money.held(e) + " in the ledger but " + e.held()
                + " in its row, and no payouts of version " + seq + " were found");
    }

    private static Escrow apply(Escrow e, EscrowRules.Plan plan, Instant now, int seq) {
        List<Escrow.Payee> payees = new ArrayList<>();
        for (Escrow.Payee p : e.payees()) {
            BigInteger released = p.released().add(plan.releasedGross().getOrDefault(p.index(), BigInteger.ZERO));
            Instant accepted = plan.accepting().contains(p.index()) ? now : p.acceptedAt();
            payees.add(new Escrow.Payee(p.index(), p.account(), p.share(), released, accepted));
        }
        Instant arbitration = plan.arbitrationDeadline() != null ? plan.arbitrationDeadline() : e.arbitrationDeadline();
        return new Escrow(e.id(), plan.to(), e.payer(), e.token(), e.arbiter(), e.evaluator(), e.deadline(),
                e.graceSeconds(), e.arbitrationSeconds(), arbitration, e.feeBps(), e.maxFeeBps(), e.fallback(),
                e.atomic(), e.termsHash(), e.amount(), e.held().subtract(plan.paidOut()), e.feesPaid().add(plan.fees()),
                seq, e.createdAt(), now, payees, e.protocolFeeBps(), e.feeSource());
    }

    /**
     * Stores the fees among an action's payouts with the payout that paid them (type, source, the
     * payee and its gross payout: what the payee's parts of the action add up to), in the action's
     * transaction.
     */
    private void recordFees(Escrow e, List<EscrowStore.TransferPart> parts, Instant now) {
        Map<Integer, BigInteger> gross = new java.util.HashMap<>();
        for (EscrowStore.TransferPart part : parts) {
            if (part.index() >= 0 && !part.kind().equals("PAYER") && !part.kind().equals("FUND")) {
                gross.merge(part.index(), part.amount(), BigInteger::add);
            }
        }
        List<FeeCharge> charges = new ArrayList<>();
        for (EscrowStore.TransferPart part : parts) {
            FeeType type = part.kind().equals("FEE") ? FeeType.PLATFORM
                    : part.kind().equals("PROTOCOL_FEE") ? FeeType.PROTOCOL : null;
            if (type != null) {
                charges.add(new FeeCharge(part.transferId(), type, e.feeSource(), "escrow:" + e.id(),
                        e.payees().get(part.index()).account(), e.token(), part.amount(), gross.get(part.index()),
                        part.ledgerSeq(), now));
            }
        }
        fees.record(charges);
    }
}
