package dev.agentescrow.backend.audit.web;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.auth.Roles;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Instant;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/audit")
@Tag(name = "audit", description = "Audit records: the caller's own; an admin's: everyone's")
public class AuditController {
    private final AuditLog audit;
    private final Roles roles;

    public AuditController(AuditLog audit, Roles roles) {
        this.audit = audit;
        this.roles = roles;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(long id, Instant occurredAt, String principal, String action, String objectType,
                        String objectId, String token, String amount, String requestId, String idempotencyKey) {
    }

    public record Page(List<Entry> items, String nextCursor) {
    }

    @GetMapping
    @Operation(summary = "Audit records, newest first; keyset pagination by cursor")
    public Page list(@RequestParam(required = false) String cursor, @RequestParam(defaultValue = "100") int limit) {
        Address me = Principals.current();
        if (limit < 1 || limit > 500) {
            throw ApiException.invalidField("limit", "OUT_OF_RANGE", "1 to 500");
        }
        long before = 0;
        if (cursor != null) {
            if (!cursor.matches("[1-9][0-9]{0,17}")) {
                throw new ApiException(HttpStatus.BAD_REQUEST, "INVALID_CURSOR",
                        "cursor is not a nextCursor this list gave out");
            }
            before = Long.parseLong(cursor);
        }
        List<AuditLog.Entry> entries = audit.list(roles.isAdmin(me) ? null : me.hex(), before, limit);
        List<Entry> items = entries.stream().map(e -> new Entry(e.id(), e.occurredAt(), e.principal(), e.action(),
                e.objectType(), e.objectId(), e.token(), e.amount() == null ? null : e.amount().toString(),
                e.requestId(), e.idempotencyKey())).toList();
        String next = entries.size() == limit ? Long.toString(entries.getLast().id()) : null;
        return new Page(items, next);
    }
}
