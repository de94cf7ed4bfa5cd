package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.chainlog.ChainLog;
import dev.agentescrow.backend.chainlog.ChainLogHandler;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.escrow.EscrowEvent;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the TaskEscrow for the chain escrows the service prepared (a {@link ChainLogHandler} of the
 * contract-log follower, so after the confirmations and reorganisation-safe): each confirmed event
 * about one of them is stored once per (tx hash, log index), and the escrow's row, payees and history
 * are rebuilt from its stored events alone; one history entry per transaction, published to the
 * parties once per (escrow, tx hash). A reorganisation deletes the events of the dropped blocks and
 * rebuilds the escrows they were about (back to PENDING_FUNDING if the Created event went); their
 * transactions mined again are the same keys, so nothing is published twice. A Created event whose
 * terms are not the ones the service prepared (the payer used the service's task id with other terms)
 * is ignored: the escrow stays PENDING_FUNDING and the service logs it.
 */
public class ChainEscrowEvents implements ChainLogHandler {
    private static final Logger log = LoggerFactory.getLogger(ChainEscrowEvents.class);
    /** The follower's name (its cursor). */
    public static final String NAME = "task-escrow";

    private final String name;
    private final TaskEscrowGateway gateway;
    private final long startBlock;
    private final ChainEscrowStore chain;
    private final EscrowStore escrows;
    private final AuditLog audit;
    private final Clock clock;

    /** @param name the follower's name (its cursor): {@link #NAME} for the service's TaskEscrow */
    public ChainEscrowEvents(String name, TaskEscrowGateway gateway, long startBlock, ChainEscrowStore chain,
                             EscrowStore escrows, AuditLog audit, Clock clock) {
        this.name = name;
        this.gateway = gateway;
        this.startBlock = startBlock;
        this.chain = chain;
        this.escrows = escrows;
        this.audit = audit;
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Address contract() {
        return gateway.address();
    }

    @Override
    public long startBlock() {
        return startBlock;
    }

    @Override
    public void apply(List<ChainLog> logs) {
        Instant now = clock.instant();
        Set<String> touched = new LinkedHashSet<>();
        Set<String> newTransactions = new LinkedHashSet<>();
        for (ChainLog chainLog : logs) {
            Optional<EscrowEvent> decoded = TaskEscrowGateway.decode(chainLog.log());
            if (decoded.isEmpty()) {
                continue;
            }
            EscrowEvent event = decoded.get();
            Optional<String> escrowId = chain.escrowOf(event.id());
            if (escrowId.isEmpty()) {
                continue;
            }
            if (event instanceof EscrowEvent.Created created && !prepared(escrowId.get(), created)) {
                continue;
            }
            ChainEscrowStore.ChainEvent stored = new ChainEscrowStore.ChainEvent(chainLog.position().txHash().value(),
                    chainLog.position().logIndex(), chainLog.blockNumber(), kind(event), fields(event), now);
            if (chain.addEvent(escrowId.get(), stored, chainLog.position().blockHash().hex())) {
                touched.add(escrowId.get());
                newTransactions.add(escrowId.get() + ":" + stored.txHash());
            }
        }
        for (String id : touched) {
            for (EscrowStore.HistoryEntry entry : rebuild(id)) {
                if (newTransactions.contains(id + ":" + entry.txHash())) {
                    Escrow e = escrows.find(id).orElseThrow();
                    audit.record(entry.actor(), "ESCROW_" + entry.action().name(), "escrow", id, e.token().hex(), null);
                }
            }
        }
    }

    /**
     * Deletes the events of the dropped blocks, rebuilds the escrows they were about and retracts each
     * event published for a transaction of those blocks ({@code escrow.retracted}, once per retraction):
     * every applied block had its confirmations, so this is a reorganisation deeper than them. If the
     * transaction is mined again in the new chain, its event is published again (a new event id).
     */
    @Override
    public void undo(long fromBlock) {
        Map<String, List<EscrowStore.HistoryEntry>> dropped = new LinkedHashMap<>();
        for (String id : chain.escrowsWithEventsFrom(fromBlock)) {
            dropped.put(id, escrows.history(id).stream().filter(h -> h.txHash() != null && h.blockNumber() != null
                    && h.blockNumber() >= fromBlock).toList());
        }
        chain.dropEventsFrom(fromBlock);
        Instant now = clock.instant();
        for (Map.Entry<String, List<EscrowStore.HistoryEntry>> e : dropped.entrySet()) {
            String id = e.getKey();
            log.warn("chain escrow {}: events from block {} on left the chain; rebuilt from those that stay, {}"
                    + " published event(s) retracted", id, fromBlock, e.getValue().size());
            rebuild(id);
            for (EscrowStore.HistoryEntry entry : e.getValue()) {
                int generation = chain.retract(id, entry.txHash(), entry.blockNumber(), now);
                escrows.publishRetraction(id, entry, generation, "chain-escrow-retracted:" + id + ":" + entry.txHash()
                        + ":" + generation, publishKey(id, entry.txHash(), generation - 1));
            }
        }
    }

    /** The key of a transaction's event after {@code generation} retractions. */
    private static String publishKey(String id, String txHash, int generation) {
        return "chain-escrow:" + id + ":" + txHash + (generation == 0 ? "" : ":" + generation);
    }

    /** Whether the Created event (and the contract's record of the escrow) carries the terms the service prepared. */
    private boolean prepared(String escrowId, EscrowEvent.Created created) {
        Escrow e = escrows.find(escrowId).orElseThrow();
        boolean same = e.payer().equals(created.payer()) && e.token().equals(created.token())
                && e.amount().equals(created.amount().baseUnits())
                && e.deadline().equals(created.deadline()) && e.atomic() == (created.mode()
                == dev.agentescrow.chain.escrow.ReleaseMode.ATOMIC)
                && e.termsHash().equals(created.termsHash().hex());
        if (same) {
            // What the event does not carry, from the contract (these never change after the create).
            Optional<dev.agentescrow.chain.escrow.Escrow> onChain = gateway.escrow(created.id());
            same = onChain.isPresent() && onChain.get().arbiter().equals(e.arbiter())
                    && onChain.get().evaluator().equals(e.evaluator() == null ? e.payer() : e.evaluator())
                    && onChain.get().maxFee().value() == e.maxFeeBps()
                    && onChain.get().fallbackRule().name().equals(e.fallback().name())
                    && onChain.get().payees().size() == e.payees().size();
            for (int i = 0; same && i < e.payees().size(); i++) {
                same = onChain.get().payees().get(i).account().equals(e.payees().get(i).account())
                        && onChain.get().payees().get(i).share().baseUnits().equals(e.payees().get(i).share());
            }
        }
        if (!same) {
            log.warn("chain escrow {}: the TaskEscrow escrow {} was created with other terms than the service prepared;"
                    + " ignored (the escrow stays PENDING_FUNDING)", escrowId, created.id());
        }
        return same;
    }

    private static String kind(EscrowEvent event) {
        return event.getClass().getSimpleName();
    }

    private static Map<String, String> fields(EscrowEvent event) {
        Map<String, String> data = new LinkedHashMap<>();
        switch (event) {
            case EscrowEvent.Created e -> {
                data.put("amount", e.amount().baseUnits().toString());
                data.put("feeBps", Integer.toString(e.fee().value()));
                data.put("payer", e.payer().hex());
            }
            case EscrowEvent.Accepted e -> {
                data.put("payee", e.payee().hex());
                data.put("index", Integer.toString(e.index()));
            }
            case EscrowEvent.Released e -> {
                data.put("payee", e.payee().hex());
                data.put("amount", e.amount().baseUnits().toString());
                data.put("fee", e.fee().baseUnits().toString());
            }
            case EscrowEvent.Rejected e -> data.put("payer", e.payer().hex());
            case EscrowEvent.Expired e -> data.put("payer", e.payer().hex());
            case EscrowEvent.Disputed e -> {
                data.put("by", e.by().hex());
                data.put("arbitrationDeadline", Long.toString(e.arbitrationDeadline().getEpochSecond()));
            }
            case EscrowEvent.Resolved e -> {
                data.put("by", e.arbiter().hex());
                data.put("toPayer", e.toPayer().baseUnits().toString());
            }
            case EscrowEvent.FallbackApplied e -> {
                data.put("by", e.by().hex());
                data.put("toPayer", e.toPayer().baseUnits().toString());
            }
            case EscrowEvent.Funded e -> {
                // no fields
            }
            case EscrowEvent.Completed e -> {
                // no fields
            }
        }
        return data;
    }

    /** Which action a transaction's events make (the strongest of them), weakest first. */
    private static final List<EscrowAction> STRENGTH = List.of(EscrowAction.ACCEPTED, EscrowAction.RELEASED,
            EscrowAction.DISPUTED, EscrowAction.REFUNDED, EscrowAction.CANCELLED, EscrowAction.RESOLVED,
            EscrowAction.FALLBACK_APPLIED, EscrowAction.CREATED);

    /**
     * Rebuilds the escrow's row, payees and history from its stored events (its row locked first),
     * publishes each history entry once per (escrow, tx hash); returns the history.
     */
    List<EscrowStore.HistoryEntry> rebuild(String id) {
        Escrow base = escrows.lock(id, false).orElseThrow();
        EscrowState state = EscrowState.PENDING_FUNDING;
        BigInteger held = BigInteger.ZERO;
        BigInteger feesPaid = BigInteger.ZERO;
        int feeBps = base.feeBps();
        Instant arbitrationDeadline = null;
        Instant updated = base.createdAt();
        List<BigInteger> released = new ArrayList<>();
        List<Instant> accepted = new ArrayList<>();
        for (int i = 0; i < base.payees().size(); i++) {
            released.add(BigInteger.ZERO);
            accepted.add(null);
        }
        Map<String, List<ChainEscrowStore.ChainEvent>> byTransaction = new LinkedHashMap<>();
        for (ChainEscrowStore.ChainEvent event : chain.events(id)) {
            byTransaction.computeIfAbsent(event.txHash(), k -> new ArrayList<>()).add(event);
        }
        List<EscrowStore.HistoryEntry> history = new ArrayList<>();
        List<List<Map<String, Object>>> payoutsOf = new ArrayList<>();
        for (List<ChainEscrowStore.ChainEvent> events : byTransaction.values()) {
            EscrowState from = state;
            EscrowAction action = null;
            String actor = "chain";
            List<Map<String, Object>> payouts = new ArrayList<>();
            for (ChainEscrowStore.ChainEvent event : events) {
                Map<String, String> d = event.data();
                if (state == EscrowState.PENDING_FUNDING && !event.kind().equals("Created")) {
                    continue;
                }
                EscrowAction made = null;
                switch (event.kind()) {
                    case "Created" -> {
                        state = EscrowState.OPEN;
                        held = new BigInteger(d.get("amount"));
                        feeBps = Integer.parseInt(d.get("feeBps"));
                        made = EscrowAction.CREATED;
                        actor = d.get("payer");
                    }
                    case "Accepted" -> {
                        accepted.set(Integer.parseInt(d.get("index")), event.seenAt());
                        made = EscrowAction.ACCEPTED;
                        actor = d.get("payee");
                    }
                    case "Funded" -> state = EscrowState.FUNDED;
                    case "Released" -> {
                        Address payee = Address.of(d.get("payee"));
                        BigInteger net = new BigInteger(d.get("amount"));
                        BigInteger fee = new BigInteger(d.get("fee"));
                        for (Escrow.Payee p : base.payees()) {
                            if (p.account().equals(payee)) {
                                released.set(p.index(), released.get(p.index()).add(net).add(fee));
                                payouts.add(Map.of("kind", "PAYEE", "payeeIndex", p.index(),
                                        "account", payee.checksummed(), "amount", net.toString(), "fee", fee.toString()));
                                break;
                            }
                        }
                        held = held.subtract(net).subtract(fee);
                        feesPaid = feesPaid.add(fee);
                        made = EscrowAction.RELEASED;
                    }
                    case "Completed" -> state = EscrowState.COMPLETED;
                    case "Rejected" -> {
                        payouts.add(Map.of("kind", "PAYER", "account", base.payer().checksummed(), "amount",
                                held.toString()));
                        state = EscrowState.REJECTED;
                        held = BigInteger.ZERO;
                        made = EscrowAction.CANCELLED;
                        actor = d.get("payer");
                    }
                    case "Expired" -> {
                        payouts.add(Map.of("kind", "PAYER", "account", base.payer().checksummed(), "amount",
                                held.toString()));
                        state = EscrowState.EXPIRED;
                        held = BigInteger.ZERO;
                        made = EscrowAction.REFUNDED;
                    }
                    case "Disputed" -> {
                        state = EscrowState.DISPUTED;
                        arbitrationDeadline = Instant.ofEpochSecond(Long.parseLong(d.get("arbitrationDeadline")));
                        made = EscrowAction.DISPUTED;
                        actor = d.get("by");
                    }
                    case "Resolved", "FallbackApplied" -> {
                        BigInteger toPayer = new BigInteger(d.get("toPayer"));
                        if (toPayer.signum() > 0) {
                            payouts.add(Map.of("kind", "PAYER", "account", base.payer().checksummed(), "amount",
                                    toPayer.toString()));
                        }
                        state = EscrowState.RESOLVED;
                        held = BigInteger.ZERO;
                        made = event.kind().equals("Resolved") ? EscrowAction.RESOLVED : EscrowAction.FALLBACK_APPLIED;
                        actor = d.get("by");
                    }
                    default -> log.warn("chain escrow {}: unknown stored event {}", id, event.kind());
                }
                if (made != null && (action == null || STRENGTH.indexOf(made) > STRENGTH.indexOf(action))) {
                    action = made;
                }
            }
            if (action == null) {
                continue;
            }
            ChainEscrowStore.ChainEvent first = events.getFirst();
            updated = first.seenAt();
            String who = Address.isValid(actor) ? Address.of(actor).hex() : actor;
            history.add(new EscrowStore.HistoryEntry(history.size() + 1, action, who, null, from, state,
                    "transaction " + first.txHash(), first.seenAt(), List.of(), first.txHash(), first.blockNumber()));
            payoutsOf.add(payouts);
        }
        List<Escrow.Payee> payees = new ArrayList<>();
        for (Escrow.Payee p : base.payees()) {
            payees.add(new Escrow.Payee(p.index(), p.account(), p.share(), released.get(p.index()),
                    accepted.get(p.index())));
        }
        Optional<Instant> fundingExpired = chain.fundingExpiredAt(id);
        if (state == EscrowState.PENDING_FUNDING && fundingExpired.isPresent()) {
            history.add(new EscrowStore.HistoryEntry(history.size() + 1, EscrowAction.FUNDING_EXPIRED, "service", null,
                    EscrowState.PENDING_FUNDING, EscrowState.EXPIRED, "not funded by its deadline: the contract no"
                    + " longer creates it; nothing was held", fundingExpired.get(), List.of(), null, null));
            payoutsOf.add(List.of());
            state = EscrowState.EXPIRED;
            updated = fundingExpired.get();
        }
        Escrow after = new Escrow(id, state, base.payer(), base.token(), base.arbiter(), base.evaluator(),
                base.deadline(), base.graceSeconds(), base.arbitrationSeconds(), arbitrationDeadline, feeBps,
                base.maxFeeBps(), base.fallback(), base.atomic(), base.termsHash(), base.amount(), held, feesPaid,
                Math.max(1, history.size()), base.createdAt(), updated, payees);
        chain.replaceDerived(after);
        for (int i = 0; i < history.size(); i++) {
            EscrowStore.HistoryEntry entry = history.get(i);
            escrows.historyRow(id, entry);
            String key = entry.txHash() == null ? "chain-escrow:" + id + ":" + entry.action().name().toLowerCase()
                    : publishKey(id, entry.txHash(), chain.generation(id, entry.txHash()));
            escrows.publish(id, entry, key, payoutsOf.get(i));
        }
        return history;
    }
}
