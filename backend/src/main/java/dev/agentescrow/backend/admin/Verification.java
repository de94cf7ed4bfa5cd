package dev.agentescrow.backend.admin;

import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.gateway.SettlementGateway;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.reconcile.ReconciliationReport;
import dev.agentescrow.chain.Address;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.stereotype.Component;

/**
 * The balance check: the ledger's invariant (per token, every account's posted and pending totals
 * sum to zero) and a reconciliation of the vault with the ledger. A failure of either counts in
 * {@code agentescrow.balance.check.failures}.
 */
@Component
public class Verification {
    private final LedgerGateway ledger;
    private final SettlementGateway settlement;
    private final Counter failures;

    public Verification(LedgerGateway ledger, SettlementGateway settlement, MeterRegistry registry) {
        this.ledger = ledger;
        this.settlement = settlement;
        this.failures = Counter.builder("agentescrow.balance.check.failures")
                .description("balance checks (ledger invariant or vault reconciliation) that failed").register(registry);
    }

    /** Per token: the sum of all accounts' balances (must be zero) and of their pending debits minus credits (must be zero). */
    public record TokenSums(String token, String postedSum, String pendingSum) {
        boolean ok() {
            return "0".equals(postedSum) && "0".equals(pendingSum);
        }
    }

    public record Result(boolean ok, boolean ledgerBalanced, List<TokenSums> ledger, boolean reconciled,
                         boolean reconciliationSkipped, List<String> mismatches) {
    }

    public Result verify() {
        Map<Address, BigInteger[]> sums = new TreeMap<>();
        for (Map.Entry<AccountKey, AccountBalance> entry : ledger.allBalances().entrySet()) {
            AccountBalance b = entry.getValue();
            BigInteger[] sum = sums.computeIfAbsent(entry.getKey().token(), t -> new BigInteger[] {BigInteger.ZERO, BigInteger.ZERO});
            sum[0] = sum[0].add(b.balance());
            sum[1] = sum[1].add(b.debitsPending()).subtract(b.creditsPending());
        }
        List<TokenSums> tokenSums = sums.entrySet().stream().map(e -> new TokenSums(e.getKey().checksummed(),
                e.getValue()[0].toString(), e.getValue()[1].toString())).toList();
        boolean balanced = tokenSums.stream().allMatch(TokenSums::ok);
        ReconciliationReport report = settlement.reconcile();
        boolean skipped = report.isSkipped();
        List<String> mismatches = report.mismatches().stream().map(Object::toString).toList();
        boolean reconciled = !skipped && report.clean();
        boolean ok = balanced && (reconciled || skipped);
        if (!balanced || (!skipped && !report.clean())) {
            failures.increment();
        }
        return new Result(ok, balanced, tokenSums, reconciled, skipped, mismatches);
    }
}
