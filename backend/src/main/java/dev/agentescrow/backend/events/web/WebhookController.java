package dev.agentescrow.backend.events.web;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.auth.AgentAuthentication;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.events.DeliveryLog;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.backend.events.Webhooks;
import dev.agentescrow.backend.idempotency.IdempotencyFilter;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/webhooks")
@Tag(name = "webhooks", description = "Endpoints that receive the principal's events, signed (AgentEscrow-Signature)")
public class WebhookController {
    private static final int MAX_DESCRIPTION = 200;

    private final Webhooks webhooks;
    private final DeliveryLog deliveries;
    private final AuditLog audit;

    public WebhookController(Webhooks webhooks, DeliveryLog deliveries, AuditLog audit) {
        this.webhooks = webhooks;
        this.deliveries = deliveries;
        this.audit = audit;
    }

    /** {@code types}: event types to receive (e.g. {@code deposit.credited}); absent or empty: all. */
    public record CreateRequest(String url, String description, List<String> types) {
    }

    public record EndpointView(String id, String url, String description, List<String> types, Instant createdAt) {
        static EndpointView of(Webhooks.Endpoint endpoint) {
            return new EndpointView(endpoint.id().toString(), endpoint.url(), endpoint.description(),
                    endpoint.types().stream().map(EventType::wireName).toList(), endpoint.createdAt());
        }
    }

    /** The endpoint and its signing secret, shown this once. */
    public record Created(String id, String url, String description, List<String> types, Instant createdAt,
                          String secret) {
    }

    public record EndpointList(List<EndpointView> items) {
    }

    public record AttemptView(int attempt, Instant startedAt, long durationMs, Integer statusCode, String error) {
    }

    public record DeliveryView(String id, String eventId, String eventType, long sequence, String state, int attempts,
                               Instant nextAttemptAt, Instant createdAt, Instant completedAt,
                               List<AttemptView> attemptLog) {
    }

    public record DeliveryList(List<DeliveryView> items, String nextCursor) {
    }

    @PostMapping
    @Operation(summary = "Registers a webhook endpoint (http or https, no credentials in the URL; public addresses"
            + " only outside the local profile); the signing secret is shown this once")
    public ResponseEntity<Created> create(AgentAuthentication principal, @RequestBody CreateRequest request,
                                          HttpServletRequest http) {
        IdempotencyFilter.withholdSecrets(http, "secret");
        Inputs inputs = Inputs.check();
        if (request.url() == null) {
            inputs.error("url", "REQUIRED", "required");
        }
        if (request.description() != null && (request.description().length() > MAX_DESCRIPTION
                || request.description().chars().anyMatch(Character::isISOControl))) {
            inputs.error("description", "INVALID_DESCRIPTION", "at most 200 characters, no control characters");
        }
        List<EventType> types = new ArrayList<>();
        List<String> requested = request.types() == null ? List.of() : request.types();
        if (requested.size() > EventType.values().length) {
            inputs.error("types", "TOO_MANY_TYPES", "at most " + EventType.values().length + " types");
        } else {
            for (int i = 0; i < requested.size(); i++) {
                Optional<EventType> type = EventType.fromWireName(requested.get(i));
                if (type.isEmpty()) {
                    inputs.error("types[" + i + "]", "UNKNOWN_EVENT_TYPE", "not an event type");
                } else if (!types.contains(type.get())) {
                    types.add(type.get());
                }
            }
        }
        inputs.orThrow();
        Webhooks.Registration registration = webhooks.register(principal.address(), request.url(), request.description(),
                types);
        return switch (registration) {
            case Webhooks.Refused refused -> throw ApiException.invalidField("url", refused.refusal().name(),
                    refused.refusal().message());
            case Webhooks.LimitReached limit -> throw new ApiException(HttpStatus.CONFLICT, "WEBHOOK_LIMIT",
                    "at most " + limit.limit() + " webhook endpoints per principal");
            case Webhooks.Registered registered -> {
                audit.record(principal.getName(), "WEBHOOK_CREATED", "webhook", registered.endpoint().id().toString(),
                        null, null);
                EndpointView view = EndpointView.of(registered.endpoint());
                yield ResponseEntity.status(HttpStatus.CREATED).body(new Created(view.id(), view.url(), view.description(),
                        view.types(), view.createdAt(), registered.secret()));
            }
        };
    }

    @GetMapping
    @Operation(summary = "The caller's webhook endpoints (never their secrets)")
    public EndpointList list(AgentAuthentication principal) {
        return new EndpointList(webhooks.list(principal.address()).stream().map(EndpointView::of).toList());
    }

    @GetMapping("/{id}")
    @Operation(summary = "One of the caller's webhook endpoints")
    public EndpointView get(AgentAuthentication principal, @PathVariable UUID id) {
        return webhooks.find(principal.address(), id).map(EndpointView::of)
                .orElseThrow(() -> ApiException.notFound("webhook"));
    }

    @DeleteMapping("/{id}")
    @Operation(summary = "Deletes one of the caller's webhook endpoints; its pending deliveries are cancelled")
    public ResponseEntity<Void> delete(AgentAuthentication principal, @PathVariable UUID id) {
        if (!webhooks.delete(principal.address(), id)) {
            throw ApiException.notFound("webhook");
        }
        audit.record(principal.getName(), "WEBHOOK_DELETED", "webhook", id.toString(), null, null);
        return ResponseEntity.noContent().build();
    }

    @GetMapping("/{id}/deliveries")
    @Operation(summary = "The endpoint's deliveries, newest first, each with every attempt (status code or error)")
    public DeliveryList deliveries(AgentAuthentication principal, @PathVariable UUID id,
                                   @RequestParam(required = false) String cursor,
                                   @RequestParam(defaultValue = "50") int limit) {
        if (limit < 1 || limit > DeliveryLog.MAX_PAGE) {
            throw ApiException.invalidField("limit", "INVALID_LIMIT", "1 to " + DeliveryLog.MAX_PAGE);
        }
        Optional<DeliveryLog.Cursor> after;
        try {
            after = DeliveryLog.Cursor.decode(cursor);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidField("cursor", "INVALID_CURSOR", "not a cursor this list returned");
        }
        webhooks.find(principal.address(), id).orElseThrow(() -> ApiException.notFound("webhook"));
        List<DeliveryLog.Delivery> page = deliveries.page(id, after, limit);
        String next = page.size() == limit
                ? new DeliveryLog.Cursor(page.getLast().createdAt(), page.getLast().id()).encode() : null;
        return new DeliveryList(page.stream().map(d -> new DeliveryView(d.id().toString(), d.eventId().toString(),
                d.eventType(), d.sequence(), d.state(), d.attempts(), d.nextAttemptAt(), d.createdAt(), d.completedAt(),
                d.attemptLog().stream().map(a -> new AttemptView(a.attempt(), a.startedAt(), a.durationMs(),
                        a.statusCode(), a.error())).toList())).toList(), next);
    }
}
