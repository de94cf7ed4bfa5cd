package dev.agentescrow.backend.events;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The background side of events, on every instance (the database decides who does what): one
 * thread polls the ledger and settlement for new facts and sequences the outbox (woken at once by a
 * publication on this instance), one claims due webhook deliveries and sends each on a virtual
 * thread, at most {@code deliveryConcurrency} at a time.
 */
@Component
public class EventWorkers implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(EventWorkers.class);

    private final LedgerEventFeed ledgerFeed;
    private final EventSequencer sequencer;
    private final WebhookDeliverer deliverer;
    private final EventSignal signal;
    private final EventsProperties properties;
    private final Semaphore inFlight;
    private volatile boolean running;
    private Thread publishing;
    private Thread delivering;
    private ExecutorService senders;

    public EventWorkers(LedgerEventFeed ledgerFeed, EventSequencer sequencer, WebhookDeliverer deliverer,
                        EventSignal signal, EventsProperties properties) {
        this.ledgerFeed = ledgerFeed;
        this.sequencer = sequencer;
        this.deliverer = deliverer;
        this.signal = signal;
        this.properties = properties;
        this.inFlight = new Semaphore(properties.deliveryConcurrency());
    }

    @Override
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        senders = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("webhook-send-", 0).factory());
        publishing = Thread.ofPlatform().daemon().name("events-publisher").start(this::publishLoop);
        delivering = Thread.ofPlatform().daemon().name("webhook-deliverer").start(this::deliverLoop);
    }

    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        publishing.interrupt();
        delivering.interrupt();
        try {
            publishing.join(Duration.ofSeconds(5));
            delivering.join(Duration.ofSeconds(5));
            senders.shutdown();
            if (!senders.awaitTermination(properties.requestTimeout().toSeconds() + 1, TimeUnit.SECONDS)) {
                senders.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            senders.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops before the web server and the data source (which stop at lower phases). */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 1000;
    }

    private void publishLoop() {
        long seen = signal.publishedCount();
        while (running) {
            try {
                ledgerFeed.pollDeposits();
                ledgerFeed.pollSettlements();
                sequencer.sequencePending();
            } catch (RuntimeException e) {
                log.warn("event publishing step failed; retrying: {}", e.toString());
            }
            try {
                seen = signal.awaitPublished(seen, properties.pollInterval());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void deliverLoop() {
        long seen = signal.sequencedCount();
        while (running) {
            try {
                int free = inFlight.availablePermits();
                List<WebhookDeliverer.Claim> claims = free == 0 ? List.of() : deliverer.claim(free);
                for (WebhookDeliverer.Claim claim : claims) {
                    inFlight.acquire();
                    senders.execute(() -> send(claim));
                }
                if (!claims.isEmpty() && claims.size() == free) {
                    inFlight.acquire();
                    inFlight.release();
                    continue;
                }
            } catch (RuntimeException e) {
                log.warn("webhook claim failed; retrying: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                seen = signal.awaitSequenced(seen, properties.deliveryPollInterval());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void send(WebhookDeliverer.Claim claim) {
        try {
            deliverer.deliver(claim);
        } catch (RuntimeException e) {
            log.warn("webhook delivery {} attempt {} could not be recorded; its lease will bring it back: {}",
                    claim.deliveryId(), claim.attempt(), e.toString());
        } finally {
            inFlight.release();
        }
    }
}
