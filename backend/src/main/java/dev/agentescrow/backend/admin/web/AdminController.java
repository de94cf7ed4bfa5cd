package dev.agentescrow.backend.admin.web;

import dev.agentescrow.backend.admin.Verification;
import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.web.Principals;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/admin")
@Tag(name = "admin", description = "Admins only")
public class AdminController {
    private final Verification verification;
    private final AuditLog audit;

    public AdminController(Verification verification, AuditLog audit) {
        this.verification = verification;
        this.audit = audit;
    }

    @PostMapping("/verify")
    @Operation(summary = "Checks the ledger invariant and reconciles the vault with the ledger")
    public Verification.Result verify() {
        Verification.Result result = verification.verify();
        audit.record(Principals.current().hex(), result.ok() ? "VERIFY_OK" : "VERIFY_FAILED", "system", "ledger", null, null);
        return result;
    }
}
