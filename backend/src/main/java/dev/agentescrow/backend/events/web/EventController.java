package dev.agentescrow.backend.events.web;

import dev.agentescrow.backend.auth.AgentAuthentication;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.events.EventFeed;
import dev.agentescrow.backend.events.EventStreams;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import tools.jackson.databind.JsonNode;

@RestController
@RequestMapping("/api/v1/events")
@Tag(name = "events", description = "The principal's events: a paged list and a server-sent-events stream")
public class EventController {
    private final EventFeed feed;
    private final EventStreams streams;

    public EventController(EventFeed feed, EventStreams streams) {
        this.feed = feed;
        this.streams = streams;
    }

    /** One event: the same JSON a webhook receives. */
    public record EventView(String id, String type, long sequence, String objectId, String createdAt, JsonNode data) {
        static EventView of(EventFeed.Event event) {
            return new EventView(event.id().toString(), event.type(), event.sequence(), event.objectId(),
                    event.createdAt().toString(), event.dataJson());
        }
    }

    /** {@code nextCursor}: the {@code after} of the next page when this one is full. */
    public record EventList(List<EventView> items, String nextCursor) {
    }

    @GetMapping
    @Operation(summary = "The caller's events with a sequence above `after` (default 0), oldest first")
    public EventList list(AgentAuthentication principal, @RequestParam(required = false) String after,
                          @RequestParam(defaultValue = "100") int limit) {
        long from = sequence("after", after);
        if (limit < 1 || limit > EventFeed.MAX_PAGE) {
            throw ApiException.invalidField("limit", "INVALID_LIMIT", "1 to " + EventFeed.MAX_PAGE);
        }
        List<EventFeed.Event> page = feed.after(principal.address(), from, limit);
        String next = page.size() == limit ? Long.toString(page.getLast().sequence()) : null;
        return new EventList(page.stream().map(EventView::of).toList(), next);
    }

    @GetMapping(path = "/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
    @Operation(summary = "Server-sent events of the caller's events (id = sequence); resume with Last-Event-ID"
            + " (or ?after=); a comment heartbeat keeps the stream open")
    public ResponseEntity<SseEmitter> stream(AgentAuthentication principal,
                                             @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId,
                                             @RequestParam(required = false) String after) {
        long from = lastEventId != null ? sequence("Last-Event-ID", lastEventId) : sequence("after", after);
        SseEmitter emitter = streams.open(principal.address(), from).orElseThrow(() -> new ApiException(
                HttpStatus.TOO_MANY_REQUESTS, "STREAM_LIMIT", "too many event streams open", List.of(),
                Map.of("Retry-After", "5")));
        return ResponseEntity.ok().header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no").body(emitter);
    }

    private static long sequence(String field, String value) {
        if (value == null || value.isEmpty()) {
            return 0;
        }
        if (!value.matches("[0-9]{1,18}")) {
            throw ApiException.invalidField(field, "INVALID_CURSOR", "an event sequence (a non-negative integer)");
        }
        return Long.parseLong(value);
    }
}
