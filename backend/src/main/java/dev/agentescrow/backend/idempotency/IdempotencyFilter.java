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

/**
 * The {@code Idempotency-Key} header (IETF draft) on every POST: the first request with a key
 * claims it for the principal (anonymous callers by IP); its response is stored and a replay with
 * the same body gets that response again ({@code Idempotent-Replayed: true}); the same key with
 * another body or path is 422 IDEMPOTENCY_KEY_REUSED; a replay while the first is running is 409
 * IDEMPOTENCY_REQUEST_IN_FLIGHT. A 5xx, 401 or 429 answer releases the key, so that the client may retry.
 */
@Component
@Order(10)
public class IdempotencyFilter extends OncePerRequestFilter {
    public static final String HEADER = "Idempotency-Key";
    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,255}");

    private final IdempotencyStore store;
    private final Timer claiming;
    private final Timer completing;

    public IdempotencyFilter(IdempotencyStore store, MeterRegistry registry) {
        this.store = store;
        this.claiming = ApiSteps.timer(registry, "idempotency-claim");
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
        String principal = principal(request);
        byte[] body = CachedBodyRequest.bodyOf(request);
        String hash = hash(request.getRequestURI(), body);
        if (claiming.record(() -> store.claim(principal, key, hash))) {
            run(request, response, chain, principal, key);
            return;
        }
        Optional<IdempotencyStore.Record> existing = store.find(principal, key);
        if (existing.isEmpty()) {
            if (store.claim(principal, key, hash)) {
                run(request, response, chain, principal, key);
            } else {
                inFlight(request, response);
            }
            return;
        }
        IdempotencyStore.Record record = existing.get();
        if (!record.requestHash().equals(hash)) {
            Problems.write(request, response, HttpStatus.UNPROCESSABLE_CONTENT, "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used with another request body", Map.of());
            return;
        }
        if (record.state() == IdempotencyStore.State.IN_FLIGHT) {
            if (store.takeOver(principal, key, hash)) {
                run(request, response, chain, principal, key);
            } else {
                inFlight(request, response);
            }
            return;
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
    }

    private void run(HttpServletRequest request, HttpServletResponse response, FilterChain chain, String principal,
                     String key) throws ServletException, IOException {
        ContentCachingResponseWrapper wrapper = new ContentCachingResponseWrapper(response);
        boolean completed = false;
        try {
            chain.doFilter(request, wrapper);
            int status = wrapper.getStatus();
            if (status < 500 && status != 401 && status != 429) {
                completing.record(() -> store.complete(principal, key, status, wrapper.getContentType(),
                        wrapper.getContentAsByteArray()));
                completed = true;
            }
        } finally {
            if (!completed) {
                store.release(principal, key);
            }
            wrapper.copyBodyToResponse();
        }
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
