package dev.agentescrow.backend.transfer;

import dev.agentescrow.backend.common.ApiSteps;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.idempotency.IdempotencyStore;
import dev.agentescrow.backend.idempotency.PendingClaim;
import dev.agentescrow.backend.token.TokenCatalog;
import dev.agentescrow.batcher.command.AgentCommands;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.math.BigInteger;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * Micropayments from the caller's account: the token, amount limits, then the agents' command
 * layer, which debits only the caller's own account. A payment is final once this returns a
 * committed receipt. Only a transfer written now ({@code OK}) counts against the day's limit; a
 * replay the ledger answers {@code EXISTS} was counted when it was written. A payment in a token the
 * service does not accept is refused ({@code UNKNOWN_TOKEN}) before any reservation, so made-up
 * tokens leave no rows in the day's totals. A ledger write whose answer never came (a timeout, a
 * lost connection) keeps its reservation (a write refused before its submission, on an instance that
 * no longer leads, gives it back): it may still commit, and a replay the ledger answers
 * {@code EXISTS} gives its own reservation back, so it counts once (never given back for a payment
 * that committed; one that did not keeps its allowance used, as after a crash: the safe side).
 */
@Component
public class Payments {
    private final LedgerGateway ledger;
    private final AmountLimits limits;
    private final IdempotencyStore idempotency;
    private final TokenCatalog tokens;
    private final Timer reserving;
    private final Timer paying;

    public Payments(LedgerGateway ledger, AmountLimits limits, IdempotencyStore idempotency, TokenCatalog tokens,
                    MeterRegistry registry) {
        this.ledger = ledger;
        this.limits = limits;
        this.idempotency = idempotency;
        this.tokens = tokens;
        this.reserving = ApiSteps.timer(registry, "daily-reservation");
        this.paying = ApiSteps.timer(registry, "ledger");
    }

    /** One payment order, its fields checked already. */
    public record Order(TransferId id, Address to, Address token, BigInteger amount, String reference) {
    }

    /**
     * The outcome of one order: a ledger receipt (or a refusal in its terms before the ledger: an
     * unknown token), or the limit that stopped it before the ledger.
     */
    public record Outcome(Order order, TransferReceipt receipt, AmountLimits.Verdict limit) {
        public TransferId id() {
            return order.id();
        }

        public TransferResult result() {
            return receipt == null ? null : receipt.result();
        }

        public boolean committed() {
            return receipt != null && receipt.committed();
        }

        public String code() {
            return limit != null && limit != AmountLimits.Verdict.OK ? limit.name() : receipt.result().name();
        }
    }

    /**
     * Pays every order from {@code from}; with {@code atomic} all commit or none does (a linked
     * group in the ledger), else each on its own.
     */
    public List<Outcome> pay(Address from, List<Order> orders, boolean atomic) {
        return pay(from, orders, atomic, null);
    }

    /**
     * As {@link #pay(Address, List, boolean)}, claiming the request's Idempotency-Key ({@code claim},
     * null if the request has none or claimed it already) in its first statement, the day's
     * reservation, or on its own before the ledger write if no reservation was needed: the claim
     * always precedes the ledger write, and costs no round trip of its own in the usual case.
     * Throws {@link PendingClaim.KeyTakenException}, having written nothing, if another request holds the key.
     */
    public List<Outcome> pay(Address from, List<Order> orders, boolean atomic, PendingClaim claim) {
        LocalDate day = limits.today();
        boolean[] unknown = unknownTokens(orders);
        AmountLimits.Verdict[] verdicts = reserving.record(() -> reserve(from, orders, unknown, claim, day));
        List<Order> reserved = new ArrayList<>();
        List<AgentCommands.Payment> payments = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        Outcome[] outcomes = new Outcome[orders.size()];
        for (int i = 0; i < orders.size(); i++) {
            Order order = orders.get(i);
            outcomes[i] = unknown[i] ? new Outcome(order, TransferReceipt.rejected(order.id(), TransferResult.UNKNOWN_TOKEN),
                    null) : new Outcome(order, null, verdicts[i]);
            if (verdicts[i] == AmountLimits.Verdict.OK) {
                reserved.add(order);
                payments.add(new AgentCommands.Payment(order.id(), order.to(), order.token(), Amount.of(order.amount()),
                        order.reference()));
                positions.add(i);
            }
        }
        if (atomic && payments.size() < orders.size()) {
            release(from, reserved, day);
            for (int i = 0; i < outcomes.length; i++) {
                if (outcomes[i].limit() == AmountLimits.Verdict.OK) {
                    outcomes[i] = new Outcome(orders.get(i),
                            TransferReceipt.rejected(orders.get(i).id(), TransferResult.LINKED_TRANSFER_FAILED), null);
                }
            }
            return List.of(outcomes);
        }
        if (claim != null && !claim.claimed()) {
            idempotency.claimNow(claim);
        }
        List<TransferReceipt> receipts;
        try {
            receipts = paying.record(() -> ledger.pay(from, payments, atomic));
        } catch (NotLeaderException e) {
            // Refused before the write: this instance no longer leads, nothing was submitted.
            release(from, reserved, day);
            throw e;
        }
        // Any other failure gives nothing back: the write may still commit (see the class comment).
        List<Order> notWritten = new ArrayList<>();
        for (int k = 0; k < receipts.size(); k++) {
            int position = positions.get(k);
            TransferReceipt receipt = receipts.get(k);
            if (receipt.result() != TransferResult.OK) {
                notWritten.add(orders.get(position));
            }
            outcomes[position] = new Outcome(orders.get(position), receipt, null);
        }
        release(from, notWritten, day);
        return List.of(outcomes);
    }

    /**
     * Today's allowance for every order: per token, the whole sum in one reservation when it fits
     * (the usual case: one statement per token, whatever the number of orders), else order by order.
     */
    private AmountLimits.Verdict[] reserve(Address from, List<Order> orders, boolean[] unknown, PendingClaim claim,
                                           LocalDate day) {
        AmountLimits.Verdict[] verdicts = new AmountLimits.Verdict[orders.size()];
        Map<Address, List<Integer>> byToken = new LinkedHashMap<>();
        for (int i = 0; i < orders.size(); i++) {
            Order order = orders.get(i);
            if (unknown[i]) {
                continue;
            }
            if (!limits.withinTransferLimit(order.amount())) {
                verdicts[i] = AmountLimits.Verdict.TRANSFER_LIMIT_EXCEEDED;
            } else {
                byToken.computeIfAbsent(order.token(), t -> new ArrayList<>()).add(i);
            }
        }
        byToken.forEach((token, indexes) -> {
            BigInteger total = indexes.stream().map(i -> orders.get(i).amount()).reduce(BigInteger.ZERO, BigInteger::add);
            if (indexes.size() > 1 && limits.reserveDaily(from, token, total, claim, day)) {
                indexes.forEach(i -> verdicts[i] = AmountLimits.Verdict.OK);
            } else {
                indexes.forEach(i -> verdicts[i] = limits.reserve(from, token, orders.get(i).amount(), claim, day));
            }
        });
        return verdicts;
    }

    /**
     * Which orders name a token the service does not accept: the catalog as kept, read again at most
     * once per request (a token registered in the last second), however many made-up tokens it names.
     */
    private boolean[] unknownTokens(List<Order> orders) {
        boolean[] unknown = new boolean[orders.size()];
        Set<Address> accepted = acceptedTokens();
        boolean reread = false;
        for (int i = 0; i < orders.size(); i++) {
            Address token = orders.get(i).token();
            if (!accepted.contains(token) && !reread) {
                reread = true;
                tokens.find(token);
                accepted = acceptedTokens();
            }
            unknown[i] = !accepted.contains(token);
        }
        return unknown;
    }

    private Set<Address> acceptedTokens() {
        Set<Address> accepted = new HashSet<>();
        tokens.tokens().forEach(token -> accepted.add(token.address()));
        return accepted;
    }

    private void release(Address from, List<Order> orders, LocalDate day) {
        Map<Address, BigInteger> byToken = new LinkedHashMap<>();
        orders.forEach(o -> byToken.merge(o.token(), o.amount(), BigInteger::add));
        byToken.forEach((token, amount) -> limits.release(from, token, amount, day));
    }
}
