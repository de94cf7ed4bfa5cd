package dev.agentescrow.backend.events;

import dev.agentescrow.chain.Address;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Server-sent event streams of a principal's feed: each event as {@code id: <sequence>} and
 * {@code data: <the webhook JSON>}, from the sequence after {@code Last-Event-ID}; a comment line
 * every {@code heartbeat}; each stream ends after {@code streamLifetime} (the client reconnects with
 * Last-Event-ID and misses nothing). Each stream runs on its own virtual thread; their number is
 * bounded per instance and per principal.
 */
@Component
public class EventStreams {
    private static final Logger log = LoggerFactory.getLogger(EventStreams.class);
    /** Events read from the feed per query. */
    static final int PAGE = 100;
    /** The reconnection delay the stream suggests to clients. */
    static final Duration RETRY = Duration.ofSeconds(2);

    private final EventFeed feed;
    private final EventSignal signal;
    private final EventsProperties properties;
    private final AtomicInteger open = new AtomicInteger();
    /** Streams open per owner; an entry exists only while its count is positive (changed under compute only). */
    private final Map<Address, Integer> openPerOwner = new ConcurrentHashMap<>();

    public EventStreams(EventFeed feed, EventSignal signal, EventsProperties properties,
                        io.micrometer.core.instrument.MeterRegistry registry) {
        this.feed = feed;
        this.signal = signal;
        this.properties = properties;
        registry.gauge("agentescrow.events.streams", open);
    }

    /** Opens a stream of {@code owner}'s events after {@code afterSequence}; empty when the limits are reached. */
    public java.util.Optional<SseEmitter> open(Address owner, long afterSequence) {
        if (!acquire(owner)) {
            return java.util.Optional.empty();
        }
        SseEmitter emitter = new SseEmitter(properties.streamLifetime().plusSeconds(30).toMillis());
        Thread.ofVirtual().name("sse-" + owner.hex()).start(() -> {
            try {
                run(emitter, owner, afterSequence);
            } finally {
                release(owner);
            }
        });
        return java.util.Optional.of(emitter);
    }

    /** Takes one stream of the owner's and one of the instance's, or neither. */
    private boolean acquire(Address owner) {
        boolean[] taken = {false};
        openPerOwner.compute(owner, (k, count) -> {
            int current = count == null ? 0 : count;
            if (current >= properties.maxStreamsPerOwner()) {
                return count;
            }
            taken[0] = true;
            return current + 1;
        });
        if (!taken[0]) {
            return false;
        }
        if (open.incrementAndGet() > properties.maxStreams()) {
            release(owner);
            return false;
        }
        return true;
    }

    private void release(Address owner) {
        open.decrementAndGet();
        openPerOwner.computeIfPresent(owner, (k, count) -> count <= 1 ? null : count - 1);
    }

    private void run(SseEmitter emitter, Address owner, long afterSequence) {
        long cursor = afterSequence;
        long deadline = System.nanoTime() + properties.streamLifetime().toNanos();
        long nextHeartbeat = System.nanoTime() + properties.heartbeat().toNanos();
        long seen = signal.sequencedCount();
        try {
            emitter.send(SseEmitter.event().reconnectTime(RETRY.toMillis()).comment("stream of " + owner.checksummed()));
            while (System.nanoTime() - deadline < 0) {
                List<EventFeed.Event> events = feed.after(owner, cursor, PAGE);
                for (EventFeed.Event event : events) {
                    emitter.send(SseEmitter.event().id(Long.toString(event.sequence()))
                            .data(new String(event.body(), StandardCharsets.UTF_8), MediaType.TEXT_PLAIN));
                    cursor = event.sequence();
                }
                if (events.size() == PAGE) {
                    continue;
                }
                if (System.nanoTime() - nextHeartbeat >= 0) {
                    emitter.send(SseEmitter.event().comment("heartbeat"));
                    nextHeartbeat = System.nanoTime() + properties.heartbeat().toNanos();
                }
                long untilHeartbeat = Math.max(1, nextHeartbeat - System.nanoTime());
                Duration wait = Duration.ofNanos(Math.min(untilHeartbeat, properties.pollInterval().toNanos() * 2));
                seen = signal.awaitSequenced(seen, wait);
            }
            emitter.complete();
        } catch (IOException | IllegalStateException e) {
            log.debug("event stream of {} ended: {}", owner, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            emitter.complete();
        } catch (RuntimeException e) {
            log.warn("event stream of {} failed: {}", owner, e.toString());
            emitter.completeWithError(e);
        }
    }
}
