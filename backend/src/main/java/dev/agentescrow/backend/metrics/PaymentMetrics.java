package dev.agentescrow.backend.metrics;

import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.batcher.read.FeedReads;
import dev.agentescrow.batcher.read.ServiceTotals;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * The payment metrics whose features exist, computed from real state on a schedule (not counted
 * by request handlers), at a cost that does not grow with history: deposits credited and
 * withdrawals debited from the ledger's running totals (a few rows the writer keeps in the
 * transactions it counts), settlements (confirmed batches and the amount of their movements) added
 * up batch by batch after the last one counted, each batch read once per process. Balance check
 * failures are registered beside their feature.
 *
 * <p>Before, every refresh (every 10 s, on every instance) read every batch with five sub-queries
 * over its movements, every scrape counted and summed the whole withdrawals table, and the first
 * refresh asked the chain for the vault's deposit logs from block 0 in one call: each grew with the
 * service's history.
 */
@Component
public class PaymentMetrics {
    private static final Logger log = LoggerFactory.getLogger(PaymentMetrics.class);
    /** Confirmed batches summed per statement. */
    static final int SETTLED_PAGE = 10_000;

    private final LedgerGateway ledger;
    private final AtomicLong depositCount = new AtomicLong();
    private final AtomicReference<BigInteger> depositAmount = new AtomicReference<>(BigInteger.ZERO);
    private final AtomicLong withdrawalCount = new AtomicLong();
    private final AtomicReference<BigInteger> withdrawalAmount = new AtomicReference<>(BigInteger.ZERO);
    private final AtomicLong settlementCount = new AtomicLong();
    private final AtomicReference<BigInteger> settlementAmount = new AtomicReference<>(BigInteger.ZERO);
    private long countedThroughBatch = 0;

    public PaymentMetrics(LedgerGateway ledger, MeterRegistry registry) {
        this.ledger = ledger;
        FunctionCounter.builder("agentescrow.deposits.count", depositCount, AtomicLong::doubleValue)
                .description("deposits the ledger credited").register(registry);
        FunctionCounter.builder("agentescrow.deposits.amount", depositAmount, a -> a.get().doubleValue())
                .description("base units of the deposits the ledger credited (all tokens)").register(registry);
        Gauge.builder("agentescrow.withdrawals.count", withdrawalCount, AtomicLong::doubleValue)
                .description("withdrawals the ledger debited").register(registry);
        Gauge.builder("agentescrow.withdrawals.amount", withdrawalAmount, a -> a.get().doubleValue())
                .description("base units of the withdrawals the ledger debited (all tokens)").register(registry);
        FunctionCounter.builder("agentescrow.settlements.count", settlementCount, AtomicLong::doubleValue)
                .description("confirmed settlement batches").register(registry);
        FunctionCounter.builder("agentescrow.settlements.amount", settlementAmount, a -> a.get().doubleValue())
                .description("base units moved by the movements of confirmed batches").register(registry);
    }

    @Scheduled(initialDelayString = "PT1S", fixedDelayString = "PT10S")
    public synchronized void refresh() {
        try {
            ServiceTotals totals = ledger.totals();
            long deposits = 0;
            long withdrawals = 0;
            BigInteger deposited = BigInteger.ZERO;
            BigInteger withdrawn = BigInteger.ZERO;
            for (ServiceTotals.TokenTotals token : totals.tokens().values()) {
                deposits += token.deposits().count();
                deposited = deposited.add(token.deposits().amount());
                withdrawals += token.withdrawals().count();
                withdrawn = withdrawn.add(token.withdrawals().amount());
            }
            depositCount.set(deposits);
            depositAmount.set(deposited);
            withdrawalCount.set(withdrawals);
            withdrawalAmount.set(withdrawn);
            while (true) {
                FeedReads.SettledBatches settled = ledger.settledAfter(countedThroughBatch, SETTLED_PAGE);
                settlementCount.addAndGet(settled.count());
                settlementAmount.updateAndGet(total -> total.add(settled.movedAmount()));
                countedThroughBatch = settled.lastBatchId();
                if (settled.count() < SETTLED_PAGE) {
                    break;
                }
            }
        } catch (RuntimeException e) {
            log.warn("payment metrics not refreshed: {}", e.getMessage());
        }
    }
}
