package dev.agentescrow.backend.market;

import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowState;
import dev.agentescrow.backend.escrow.Escrows;
import dev.agentescrow.chain.Address;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Pays a {@link PerformancePay} payout out of a marketplace escrow and refunds the rest: the one
 * code path of scored requests and scored tasks (docs/marketplace.md, "How the escrow pays a
 * partial amount").
 *
 * <p>A payout of the whole escrow is the payer's release of everything. A partial one uses the
 * escrow's own split in two steps: {@link #open} (in its own transaction, so that a crash leaves a
 * state the retry resumes from) has the payer dispute the escrow; {@link #settle} (in the
 * transaction that records the scoring) has the marketplace's arbiter resolve it with the split.
 */
@Component
public class PerformanceSettlement {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Escrows escrows;

    public PerformanceSettlement(Escrows escrows) {
        this.escrows = escrows;
    }

    /**
     * Step 1, in the caller's transaction: when the payout is partial and the escrow still FUNDED,
     * the payer disputes it with the settlement as the detail. Null when done, else the escrow's
     * refusal code (the caller rolls back and answers MARKET_ESCROW_CLOSED).
     */
    public String open(String escrowId, Address payer, PerformancePay.Breakdown pay, String what) {
        Escrow escrow = escrows.find(escrowId).orElseThrow();
        if (pay.refund().signum() > 0 && escrow.state() == EscrowState.FUNDED) {
            Escrows.Result disputed = escrows.dispute(escrowId, payer, "market settlement of " + what
                    + ": performance pay " + pay.payout() + " of " + pay.escrowed());
            return disputed.ok() ? null : disputed.code();
        }
        return null;
    }

    /**
     * Step 2, in the transaction that records the scoring: the arbiter resolves the disputed escrow
     * with the split, or the payer releases a whole payout. Null when paid, else why not (the
     * escrow's refusal code or its state).
     */
    public String settle(String escrowId, Address payer, PerformancePay.Breakdown pay) {
        Escrow escrow = escrows.find(escrowId).orElseThrow();
        Escrows.Result settled;
        if (escrow.state() == EscrowState.DISPUTED) {
            settled = escrows.resolve(escrowId, escrow.arbiter(), pay.payout().signum() > 0
                    ? Map.of(0, pay.payout()) : Map.of(), pay.refund());
        } else if (escrow.state() == EscrowState.FUNDED && pay.refund().signum() == 0) {
            settled = escrows.release(escrowId, payer, List.of());
        } else {
            return escrow.state().name();
        }
        return settled.ok() ? null : settled.code();
    }

    /** The breakdown as stored and returned: every multiplier, the clamp, the payout, the refund, the arithmetic. */
    public static String breakdownJson(PerformancePay.Breakdown b) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("base", b.base().toString());
        out.put("escrowed", b.escrowed().toString());
        out.put("qualityBps", b.qualityBps());
        out.put("speedBps", b.speedBps());
        out.put("accuracyBps", b.accuracyBps());
        out.put("reputationBps", b.reputationBps());
        out.put("productBps", b.productBps());
        out.put("maxMultiplierBps", b.maxMultiplierBps());
        out.put("clamped", b.clamped());
        out.put("cappedByEscrow", b.cappedByEscrow());
        out.put("payout", b.payout().toString());
        out.put("refund", b.refund().toString());
        out.put("arithmetic", b.arithmetic());
        return JSON.writeValueAsString(out);
    }
}
