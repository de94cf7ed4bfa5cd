package dev.agentescrow.backend.transfer;

import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Micropayments from the caller's account: amount limits, then the ledger. A payment is final once
 * this returns a committed result. Only a transfer written now ({@code OK}) counts against the
 * day's limit; a replay the ledger answers {@code EXISTS} was counted when it was written.
 */
@Component
public class Payments {
    private final LedgerGateway ledger;
    private final AmountLimits limits;

    public Payments(LedgerGateway ledger, AmountLimits limits) {
        this.ledger = ledger;
        this.limits = limits;
    }

    /** One payment order, its fields checked already. */
    public record Order(TransferId id, Address to, Address token, BigInteger amount, String reference) {
    }

    /** The outcome of one order: a ledger result, or the limit that stopped it before the ledger. */
    public record Outcome(TransferId id, TransferResult result, AmountLimits.Verdict limit) {
        public boolean committed() {
            return result != null && result.committed();
        }

        public String code() {
            return limit != null && limit != AmountLimits.Verdict.OK ? limit.name() : result.name();
        }
    }

    /**
     * Pays every order from {@code from}; with {@code atomic} all commit or none does (a linked
     * group in the ledger), else each on its own.
     */
    public List<Outcome> pay(Address from, List<Order> orders, boolean atomic) {
        List<Outcome> outcomes = new ArrayList<>();
        List<TransferRequest> requests = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        List<Order> reserved = new ArrayList<>();
        for (int i = 0; i < orders.size(); i++) {
            Order order = orders.get(i);
            AmountLimits.Verdict verdict = limits.reserve(from, order.token(), order.amount());
            outcomes.add(new Outcome(order.id(), null, verdict));
            if (verdict == AmountLimits.Verdict.OK) {
                reserved.add(order);
                TransferRequest request = TransferRequest.single(order.id(), AccountKey.user(from, order.token()),
                        AccountKey.user(order.to(), order.token()), Amount.of(order.amount())).withReference(order.reference());
                requests.add(request);
                positions.add(i);
            }
        }
        if (atomic && requests.size() < orders.size()) {
            reserved.forEach(o -> limits.release(from, o.token(), o.amount()));
            List<Outcome> refused = new ArrayList<>();
            for (Outcome outcome : outcomes) {
                refused.add(outcome.limit() == AmountLimits.Verdict.OK
                        ? new Outcome(outcome.id(), TransferResult.LINKED_TRANSFER_FAILED, null) : outcome);
            }
            return refused;
        }
        if (atomic) {
            for (int i = 0; i < requests.size() - 1; i++) {
                requests.set(i, requests.get(i).linkedToNext());
            }
        }
        List<TransferResult> results;
        try {
            results = ledger.submit(requests);
        } catch (RuntimeException e) {
            reserved.forEach(o -> limits.release(from, o.token(), o.amount()));
            throw e;
        }
        for (int i = 0; i < results.size(); i++) {
            int position = positions.get(i);
            Order order = orders.get(position);
            TransferResult result = results.get(i);
            if (result != TransferResult.OK) {
                limits.release(from, order.token(), order.amount());
            }
            outcomes.set(position, new Outcome(order.id(), result, null));
        }
        return outcomes;
    }
}
