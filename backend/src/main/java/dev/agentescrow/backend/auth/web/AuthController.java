package dev.agentescrow.backend.auth.web;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.auth.AccessTokens;
import dev.agentescrow.backend.auth.AgentAuthentication;
import dev.agentescrow.backend.auth.ApiKeys;
import dev.agentescrow.backend.auth.NonceStore;
import dev.agentescrow.backend.auth.SiweSettings;
import dev.agentescrow.backend.auth.SiweVerifier;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.CreatedCursor;
import dev.agentescrow.backend.common.web.Paging;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.idempotency.IdempotencyFilter;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.time.Instant;
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
@RequestMapping("/api/v1/auth")
@Tag(name = "auth", description = "Sign-In with Ethereum and API keys")
public class AuthController {
    private static final String KEY_LIST = "k1";
    private final NonceStore nonces;
    private final SiweSettings siwe;
    private final SiweVerifier verifier;
    private final AccessTokens tokens;
    private final ApiKeys apiKeys;
    private final ChainGateway chain;
    private final AuditLog audit;

    public AuthController(NonceStore nonces, SiweSettings siwe, SiweVerifier verifier, AccessTokens tokens,
                          ApiKeys apiKeys, ChainGateway chain, AuditLog audit) {
        this.nonces = nonces;
        this.siwe = siwe;
        this.verifier = verifier;
        this.tokens = tokens;
        this.apiKeys = apiKeys;
        this.chain = chain;
        this.audit = audit;
    }

    public record NonceResponse(String nonce, String domain, String uri, long chainId, Instant expiresAt) {
    }

    public record LoginRequest(@NotBlank @Size(max = 4096) String message,
                               @NotBlank @Size(max = 4200) String signature) {
    }

    public record LoginResponse(String accessToken, String tokenType, long expiresIn, String address) {
    }

    @PostMapping("/nonce")
    @Operation(summary = "A one-time nonce for a SIWE message, with the domain, URI and chain id it must name")
    public NonceResponse nonce() {
        NonceStore.Issued issued = nonces.issue(siwe.nonceTtl());
        return new NonceResponse(issued.nonce(), siwe.domain(), siwe.uri(), chain.chainId(), issued.expiresAt());
    }

    @PostMapping("/login")
    @Operation(summary = "Exchanges a signed SIWE message for an access token; 401 SIWE_* says what was wrong")
    public LoginResponse login(@Valid @RequestBody LoginRequest request, HttpServletRequest http) {
        IdempotencyFilter.withholdSecrets(http, "accessToken");
        SiweVerifier.Verdict verdict = verifier.verify(request.message(), request.signature());
        if (!verdict.ok()) {
            throw new ApiException(HttpStatus.UNAUTHORIZED, verdict.failure().name(), verdict.failure().detail());
        }
        AccessTokens.Issued issued = tokens.issue(verdict.address());
        audit.record(verdict.address().hex(), "LOGIN", "session", verdict.address().checksummed(), null, null);
        return new LoginResponse(issued.token(), "Bearer", issued.expiresIn().toSeconds(),
                verdict.address().checksummed());
    }

    public record CreateKeyRequest(@NotBlank @Size(max = 64) @Pattern(regexp = "[\\p{L}\\p{N} ._-]+") String name) {
    }

    public record ApiKeyView(String id, String name, String prefix, Instant createdAt, Instant revokedAt) {
        static ApiKeyView of(ApiKeys.ApiKey key) {
            return new ApiKeyView(key.id().toString(), key.name(), key.prefix(), key.createdAt(), key.revokedAt());
        }
    }

    public record CreatedKey(String id, String name, String key, Instant createdAt) {
    }

    /** @param nextCursor pass as {@code cursor} for the next page; absent on the last page */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ApiKeyList(List<ApiKeyView> items, String nextCursor) {
    }

    @PostMapping("/api-keys")
    @Operation(summary = "Creates an API key; the key is shown this once only (a replay of the Idempotency-Key "
            + "answers the key as null). Only a SIWE session may create keys: with an API key, 403 API_KEY_NOT_ALLOWED")
    public ResponseEntity<CreatedKey> createKey(AgentAuthentication principal, @Valid @RequestBody CreateKeyRequest request,
                                                HttpServletRequest http) {
        if (principal.method() == AgentAuthentication.Method.API_KEY) {
            throw new ApiException(HttpStatus.FORBIDDEN, "API_KEY_NOT_ALLOWED",
                    "an API key cannot create API keys; sign in with SIWE");
        }
        IdempotencyFilter.withholdSecrets(http, "key");
        ApiKeys.Created created = apiKeys.create(principal.address(), request.name())
                .orElseThrow(() -> new ApiException(HttpStatus.CONFLICT, "API_KEY_LIMIT",
                        "at most " + ApiKeys.MAX_ACTIVE_PER_OWNER + " active API keys per address"));
        audit.record(principal.getName(), "API_KEY_CREATED", "api-key", created.key().id().toString(), null, null);
        return ResponseEntity.status(HttpStatus.CREATED).body(new CreatedKey(created.key().id().toString(),
                created.key().name(), created.secret(), created.key().createdAt()));
    }

    @GetMapping("/api-keys")
    @Operation(summary = "The caller's API keys (never the keys themselves), revoked ones too, newest first; keyset "
            + "pages: pass nextCursor as cursor")
    public ApiKeyList keys(AgentAuthentication principal,
                           @Parameter(description = "nextCursor of the previous page (opaque); absent for the first page")
                           @RequestParam(required = false) String cursor,
                           @Parameter(description = "page size, 1 to 100 (default 50)")
                           @RequestParam(required = false) String limit) {
        Optional<CreatedCursor.Position> before = cursor == null ? Optional.empty()
                : Optional.of(CreatedCursor.decode(KEY_LIST, cursor));
        int size = Paging.limit(limit, Paging.MAX_LIMIT);
        List<ApiKeys.ApiKey> page = apiKeys.list(principal.address(), before, size + 1);
        List<ApiKeys.ApiKey> shown = page.size() > size ? page.subList(0, size) : page;
        return new ApiKeyList(shown.stream().map(ApiKeyView::of).toList(),
                page.size() > size ? CreatedCursor.encode(KEY_LIST, shown.getLast().position()) : null);
    }

    @DeleteMapping("/api-keys/{id}")
    @Operation(summary = "Revokes one of the caller's API keys")
    public ResponseEntity<Void> revoke(AgentAuthentication principal, @PathVariable UUID id) {
        if (!apiKeys.revoke(principal.address(), id)) {
            throw ApiException.notFound("API key");
        }
        audit.record(principal.getName(), "API_KEY_REVOKED", "api-key", id.toString(), null, null);
        return ResponseEntity.noContent().build();
    }
}
