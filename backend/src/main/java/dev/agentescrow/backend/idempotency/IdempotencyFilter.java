package dev.agentescrow.backend.idempotency;

import dev.agentescrow.backend.common.ApiSteps;
import dev.agentescrow.backend.common.http.CachedBodyRequest;
import dev.agentescrow.backend.common.web.Problems;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ContentCachingResponseWrapper;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The {@code Idempotency-Key} header (IETF draft) on every POST: the first request with a key
 * claims it for the principal (anonymous callers by IP); its response is stored and a replay with
 * the same body gets that response again ({@code Idempotent-Replayed: true}); the same key with
 * another body or path is 422 IDEMPOTENCY_KEY_REUSED; a replay while the first is running is 409
 * IDEMPOTENCY_REQUEST_IN_FLIGHT. A 5xx, 401 or 429 answer releases the key, so that the client may retry.
 * A response that carries a secret shown once (an API key, an access token: {@link #withholdSecrets}) is
 * stored, and so replayed, with those fields null: the secret never rests in the key's record.
 * The key is claimed before the request writes anything, but not here: right before the handler
 * ({@link IdempotencyClaimInterceptor}), or in the handler's first statement ({@link ClaimedWithFirstWrite},
 * a payment's daily reservation), which saves the claim's own round trip and commit on the hot path.
 */
@Component
@Order(10)
public class IdempotencyFilter extends OncePerRequestFilter {
    public static final String HEADER = "Idempotency-Key";
    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");
    private static final String SECRET_FIELDS = IdempotencyFilter.class.getName() + ".secretFields";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String REDERIVABLE = IdempotencyFilter.class.getName() + ".rederivable";
    private static final String PENDING_CLAIM = IdempotencyFilter.class.getName() + ".pendingClaim";

    private final IdempotencyStore store;
    private final Timer completing;

    public IdempotencyFilter(IdempotencyStore store, MeterRegistry registry) {
        this.store = store;
        this.completing = ApiSteps.timer(registry, "idempotency-response");
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !"POST".equals(request.getMethod()) || request.getHeader(HEADER) == null
                || !request.getRequestURI().startsWith("/api/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String key = request.getHeader(HEADER);
        if (!KEY.matcher(key).matches()) {
            Problems.write(request, response, HttpStatus.BAD_REQUEST, "IDEMPOTENCY_KEY_INVALID",
                    "Idempotency-Key must be 1 to 255 visible ASCII characters", Map.of());
            return;
        }
        byte[] body = CachedBodyRequest.bodyOf(request);
        PendingClaim claim = new PendingClaim(principal(request), key, hash(request.getRequestURI(), body));
        request.setAttribute(PENDING_CLAIM, claim);
        try {
            run(request, response, chain, claim);
        } finally {
            request.removeAttribute(PENDING_CLAIM);
        }
    }

    /**
     * Runs the request; its key is claimed before the handler runs ({@link IdempotencyClaimInterceptor})
     * or in the handler's first write ({@link ClaimedWithFirstWrite}). Afterwards: a key found held
     * or answered answers what its record says (nothing was written); a claimed key stores the
     * answer (or is released after a 5xx, 401 or 429); a request that ended before it claimed (a
     * validation error, an unknown path) stores its answer as the key's first.
     */
    private void run(HttpServletRequest request, HttpServletResponse response, FilterChain chain, PendingClaim claim)
            throws ServletException, IOException {
        ContentCachingResponseWrapper wrapper = new ContentCachingResponseWrapper(response);
        boolean completed = false;
        boolean answered = false;
        try {
            chain.doFilter(request, wrapper);
            if (claim.state() == PendingClaim.State.TAKEN) {
                answered = answerFromTheRecord(request, response, claim);
                return;
            }
            int status = wrapper.getStatus();
            if (status < 500 && status != 401 && status != 429) {
                byte[] stored = withoutSecrets(request, wrapper.getContentAsByteArray());
                if (claim.claimed()) {
                    boolean rederivable = Boolean.TRUE.equals(request.getAttribute(REDERIVABLE)) && status == 201;
                    completing.record(() -> {
                        if (rederivable) {
                            store.completeRederivable(claim.principal(), claim.key(), status, wrapper.getContentType(), stored);
                        } else {
                            store.complete(claim.principal(), claim.key(), status, wrapper.getContentType(), stored);
                        }
                    });
                    completed = true;
                } else if (completing.record(() -> store.storeUnclaimed(claim, status, wrapper.getContentType(), stored))) {
                    completed = true;
                } else {
                    claim.taken();
                    answered = answerFromTheRecord(request, response, claim);
                }
            }
        } finally {
            if (!completed && claim.claimed()) {
                store.release(claim.principal(), claim.key());
            }
            if (!answered) {
                wrapper.copyBodyToResponse();
            }
        }
    }

    /**
     * The answer of a request whose key another request holds or answered: the stored response
     * (replayed), 422 for another body, 409 while in flight. What this request's handler wrote is
     * dropped (it wrote nothing to the database: the claim comes before any write). False if the
     * response was committed already and cannot be replaced.
     */
    private boolean answerFromTheRecord(HttpServletRequest request, HttpServletResponse response, PendingClaim claim)
            throws IOException {
        if (response.isCommitted()) {
            return false;
        }
        response.reset();
        Optional<IdempotencyStore.Record> existing = store.find(claim.principal(), claim.key());
        if (existing.isEmpty()) {
            // Released (a 5xx) between this request's claim and this read: the client may retry.
            inFlight(request, response);
            return true;
        }
        IdempotencyStore.Record record = existing.get();
        if (!record.requestHash().equals(claim.requestHash())) {
            Problems.write(request, response, HttpStatus.UNPROCESSABLE_CONTENT, "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used with another request body", Map.of());
            return true;
        }
        if (record.state() == IdempotencyStore.State.IN_FLIGHT) {
            inFlight(request, response);
            return true;
        }
        response.setStatus(record.status());
        response.setHeader("Idempotent-Replayed", "true");
        if (record.contentType() != null) {
            response.setContentType(record.contentType());
        }
        if (record.body() != null) {
            response.getOutputStream().write(record.body());
        }
        response.flushBuffer();
        return true;
    }

    /**
     * The pending claim of this request's {@code Idempotency-Key}, for a {@link ClaimedWithFirstWrite}
     * handler to make in its first write; null when the request has none (no key, not a POST).
     */
    public static PendingClaim pendingClaim(HttpServletRequest request) {
        return request.getAttribute(PENDING_CLAIM) instanceof PendingClaim claim ? claim : null;
    }

    /**
     * Marks this request's success as re-derivable from the ledger: every ledger id it writes
     * derives from the principal and the key, and its answer from those transfers, so running it
     * again after a lost response writes nothing and answers the same. Its stored response, if it
     * is a 201 (everything committed: a refusal or a partly refused batch could come out otherwise
     * the second time), then commits without a WAL flush of its own
     * ({@link IdempotencyStore#completeRederivable}).
     */
    public static void rederivableFromTheLedger(HttpServletRequest request) {
        request.setAttribute(REDERIVABLE, Boolean.TRUE);
    }

    /**
     * Marks the top-level JSON {@code fields} of this request's response as secrets shown once: the
     * stored response (and so any replay of the key) has them null.
     */
    public static void withholdSecrets(HttpServletRequest request, String... fields) {
        request.setAttribute(SECRET_FIELDS, List.of(fields));
    }

    /** The body to store: as sent, or with the request's secret fields null (nothing if it is not a JSON object). */
    static byte[] withoutSecrets(HttpServletRequest request, byte[] body) {
        if (!(request.getAttribute(SECRET_FIELDS) instanceof List<?> fields)) {
            return body;
        }
        try {
            if (JSON.readTree(body) instanceof ObjectNode object) {
                fields.forEach(field -> {
                    if (object.has(field.toString())) {
                        object.putNull(field.toString());
                    }
                });
                return JSON.writeValueAsBytes(object);
            }
        } catch (JacksonException e) {
            // Not JSON: store no body at all rather than a secret.
        }
        return new byte[0];
    }

    private static void inFlight(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Problems.write(request, response, HttpStatus.CONFLICT, "IDEMPOTENCY_REQUEST_IN_FLIGHT",
                "a request with this Idempotency-Key is still being processed", Map.of("Retry-After", "1"));
    }

    private static String principal(HttpServletRequest request) {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (authentication != null && authentication.isAuthenticated()
                && !"anonymousUser".equals(authentication.getName())) {
            return authentication.getName();
        }
        return "ip:" + request.getRemoteAddr();
    }

    private static String hash(String path, byte[] body) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(path.getBytes(StandardCharsets.UTF_8));
            digest.update((byte) 0);
            digest.update(body);
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
