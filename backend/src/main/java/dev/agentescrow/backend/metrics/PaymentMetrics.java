package dev.agentescrow.backend.metrics;

import dev.agentescrow.backend.gateway.BatchView;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.SettlementGateway;
import dev.agentescrow.batcher.settlement.BatchState;
import io.micrometer.core.instrument.FunctionCounter;
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
 * by request handlers): deposits (the vault's {@code Deposited} events, scanned incrementally),
 * settlements (confirmed batches and the amount of their movements). Withdrawals and balance
 * check failures are registered beside their features.
 */
@Component
public class PaymentMetrics {
    private static final Logger log = LoggerFactory.getLogger(PaymentMetrics.class);

    private final ChainGateway chain;
    private final SettlementGateway settlement;
    private final AtomicLong depositCount = new AtomicLong();
    private final AtomicReference<BigInteger> depositAmount = new AtomicReference<>(BigInteger.ZERO);
    private final AtomicLong settlementCount = new AtomicLong();
    private final AtomicReference<BigInteger> settlementAmount = new AtomicReference<>(BigInteger.ZERO);
    private long scannedToBlock = -1;

    public PaymentMetrics(ChainGateway chain, SettlementGateway settlement, MeterRegistry registry) {
        this.chain = chain;
        this.settlement = settlement;
        FunctionCounter.builder("agentescrow.deposits.count", depositCount, AtomicLong::doubleValue)
                .description("deposits into the vault").register(registry);
        FunctionCounter.builder("agentescrow.deposits.amount", depositAmount, a -> a.get().doubleValue())
                .description("base units deposited into the vault").register(registry);
        FunctionCounter.builder("agentescrow.settlements.count", settlementCount, AtomicLong::doubleValue)
                .description("confirmed settlement batches").register(registry);
        FunctionCounter.builder("agentescrow.settlements.amount", settlementAmount, a -> a.get().doubleValue())
                .description("base units moved by the movements of confirmed batches").register(registry);
    }

    @Scheduled(initialDelayString = "PT1S", fixedDelayString = "PT10S")
    public synchronized void refresh() {
        try {
            long head = chain.blockNumber();
            if (head > scannedToBlock) {
                var deposits = chain.depositsBetween(scannedToBlock + 1, head);
                depositCount.addAndGet(deposits.size());
                depositAmount.updateAndGet(total -> deposits.stream()
                        .map(d -> d.amount().baseUnits()).reduce(total, BigInteger::add));
                scannedToBlock = head;
            }
            long confirmed = 0;
            BigInteger amount = BigInteger.ZERO;
            for (BatchView batch : settlement.batches()) {
                if (batch.state() == BatchState.CONFIRMED) {
                    confirmed++;
                    amount = amount.add(batch.movedAmount());
                }
            }
            settlementCount.set(confirmed);
            settlementAmount.set(amount);
        } catch (RuntimeException e) {
            log.warn("payment metrics not refreshed: {}", e.getMessage());
        }
    }
}
