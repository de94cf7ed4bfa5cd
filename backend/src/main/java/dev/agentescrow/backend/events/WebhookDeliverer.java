package dev.agentescrow.backend.events;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Sends due webhook deliveries: claims them ({@code FOR UPDATE SKIP LOCKED}, moving
 * {@code next_attempt_at} ahead by a lease, so several instances never send one attempt twice and a
 * crashed worker's claim comes back), POSTs the event's JSON signed with the endpoint's secret,
 * records the attempt, and marks the delivery DELIVERED on a 2xx, or schedules the next attempt by
 * the {@link RetrySchedule}, or FAILED after the last. Bounded: connect and answer timeouts, no
 * redirects, the answer's body never read (closing it at once, so a receiver that trickles a body
 * cannot hold a worker), a fixed number of deliveries in flight.
 */
@Component
public class WebhookDeliverer {
    private static final Logger log = LoggerFactory.getLogger(WebhookDeliverer.class);
    public static final String EVENT_ID_HEADER = "AgentEscrow-Event-Id";
    public static final String EVENT_TYPE_HEADER = "AgentEscrow-Event-Type";
    public static final String DELIVERY_ID_HEADER = "AgentEscrow-Delivery-Id";

    private final JdbcTemplate jdbc;
    private final EventFeed feed;
    private final Clock clock;
    private final EventsProperties properties;
    private final RetrySchedule schedule;
    private final WebhookUrlPolicy policy;
    private final HttpClient http;
    private final Counter succeeded;
    private final Counter failedAttempts;
    private final Counter exhausted;
    private final Timer attemptDuration;

    public WebhookDeliverer(JdbcTemplate jdbc, EventFeed feed, Clock clock, EventsProperties properties,
                            MeterRegistry registry) {
        this.jdbc = jdbc;
        this.feed = feed;
        this.clock = clock;
        this.properties = properties;
        this.schedule = new RetrySchedule(properties.initialBackoff(), properties.maxBackoff(), properties.maxAttempts());
        this.policy = new WebhookUrlPolicy(properties.allowPrivateAddresses());
        this.http = HttpClient.newBuilder().connectTimeout(properties.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
        this.succeeded = Counter.builder("agentescrow.webhook.attempts").tag("outcome", "success")
                .description("webhook delivery attempts answered 2xx").register(registry);
        this.failedAttempts = Counter.builder("agentescrow.webhook.attempts").tag("outcome", "failure")
                .description("webhook delivery attempts that failed (non-2xx, timeout, refused)").register(registry);
        this.exhausted = Counter.builder("agentescrow.webhook.deliveries.failed")
                .description("webhook deliveries given up after the last attempt").register(registry);
        this.attemptDuration = Timer.builder("agentescrow.webhook.attempt.duration").register(registry);
        registry.gauge("agentescrow.webhook.deliveries.pending", jdbc, j -> j.queryForObject(
                "SELECT count(*) FROM backend.webhook_deliveries WHERE state = 'PENDING'", Long.class));
        registry.gauge("agentescrow.events.unsequenced", jdbc, j -> j.queryForObject(
                "SELECT count(*) FROM backend.events WHERE sequence IS NULL", Long.class));
    }

    public RetrySchedule schedule() {
        return schedule;
    }

    /** A claimed delivery: the attempt about to be made. */
    public record Claim(UUID deliveryId, UUID endpointId, UUID eventId, int attempt, String url, String secret,
                        boolean endpointDeleted) {
    }

    /** Claims up to {@code limit} due deliveries for one attempt each. */
    public List<Claim> claim(int limit) {
        Instant now = clock.instant();
        Duration lease = properties.requestTimeout().plus(properties.connectTimeout()).plusSeconds(30);
        return jdbc.query("""
                WITH due AS (
                    SELECT id FROM backend.webhook_deliveries
                    WHERE state = 'PENDING' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
                UPDATE backend.webhook_deliveries d SET next_attempt_at = ?, attempts = d.attempts + 1
                FROM due, backend.webhook_endpoints w
                WHERE d.id = due.id AND w.id = d.endpoint_id
                RETURNING d.id, d.endpoint_id, d.event_id, d.attempts, w.url, w.secret, w.deleted_at IS NOT NULL""",
                (rs, n) -> new Claim(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getObject(3, UUID.class),
                        rs.getInt(4), rs.getString(5), rs.getString(6), rs.getBoolean(7)),
                Timestamp.from(now), limit, Timestamp.from(now.plus(lease)));
    }

    /** Makes the claimed attempt and records it. */
    public void deliver(Claim claim) {
        Instant started = clock.instant();
        long startNanos = System.nanoTime();
        if (claim.endpointDeleted()) {
            complete(claim, "CANCELLED", started);
            return;
        }
        Optional<EventFeed.Event> event = feed.find(claim.eventId());
        if (event.isEmpty()) {
            throw new IllegalStateException("delivery " + claim.deliveryId() + " of an unsequenced event " + claim.eventId());
        }
        Integer status = null;
        String error = null;
        Optional<WebhookUrlPolicy.Refusal> refusal = policy.check(claim.url());
        if (refusal.isPresent()) {
            error = "refused: " + refusal.get();
        } else {
            byte[] body = event.get().body();
            try {
                HttpRequest request = HttpRequest.newBuilder(URI.create(claim.url()))
                        .timeout(properties.requestTimeout())
                        .header("Content-Type", "application/json")
                        .header("User-Agent", "agent-escrow-webhooks/1")
                        .header(EVENT_ID_HEADER, claim.eventId().toString())
                        .header(EVENT_TYPE_HEADER, event.get().type())
                        .header(DELIVERY_ID_HEADER, claim.deliveryId().toString())
                        .header(WebhookSignature.HEADER,
                                WebhookSignature.header(claim.secret(), clock.instant().getEpochSecond(), body))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
                HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                status = response.statusCode();
                response.body().close();
            } catch (IOException | IllegalArgumentException e) {
                // IllegalArgumentException: a URL the HTTP client refuses (a port out of range, stored before
                // the policy checked it) is a failed attempt too, so the delivery runs out of attempts
                // instead of being claimed again after every lease for good.
                error = describe(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                error = "interrupted";
            }
        }
        Duration duration = Duration.ofNanos(System.nanoTime() - startNanos);
        attemptDuration.record(duration);
        long durationMs = duration.toMillis();
        jdbc.update("INSERT INTO backend.webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error)"
                        + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING",
                claim.deliveryId(), claim.attempt(), Timestamp.from(started), durationMs, status, error);
        if (status != null && status >= 200 && status < 300) {
            succeeded.increment();
            complete(claim, "DELIVERED", clock.instant());
            return;
        }
        failedAttempts.increment();
        if (schedule.exhausted(claim.attempt())) {
            exhausted.increment();
            complete(claim, "FAILED", clock.instant());
            log.warn("webhook delivery {} of event {} failed after {} attempts", claim.deliveryId(), claim.eventId(),
                    claim.attempt());
        } else {
            Instant next = clock.instant().plus(schedule.delayAfter(claim.attempt(), ThreadLocalRandom.current()::nextDouble));
            jdbc.update("UPDATE backend.webhook_deliveries SET next_attempt_at = ? WHERE id = ? AND attempts = ?"
                    + " AND state = 'PENDING'", Timestamp.from(next), claim.deliveryId(), claim.attempt());
        }
    }

    private void complete(Claim claim, String state, Instant at) {
        jdbc.update("UPDATE backend.webhook_deliveries SET state = ?, completed_at = ? WHERE id = ? AND attempts = ?"
                + " AND state = 'PENDING'", state, Timestamp.from(at), claim.deliveryId(), claim.attempt());
    }

    private static String describe(Exception e) {
        String text = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return bytes.length <= 300 ? text : new String(bytes, 0, 290, StandardCharsets.UTF_8) + "...";
    }
}
