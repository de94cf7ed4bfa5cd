package dev.agentescrow.backend.idempotency;

import dev.agentescrow.backend.common.ApiSteps;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * Claims a request's {@code Idempotency-Key} in a statement of its own right before its handler
 * runs, unless the handler claims it in its first write ({@link ClaimedWithFirstWrite}). A key held
 * by another request or answered already stops the request here; {@link IdempotencyFilter} answers
 * what the key's record says.
 */
@Component
class IdempotencyClaimInterceptor implements HandlerInterceptor, WebMvcConfigurer {
    private final IdempotencyStore store;
    private final Timer claiming;

    IdempotencyClaimInterceptor(IdempotencyStore store, MeterRegistry registry) {
        this.store = store;
        this.claiming = ApiSteps.timer(registry, "idempotency-claim");
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(this);
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        PendingClaim claim = IdempotencyFilter.pendingClaim(request);
        if (claim == null || claim.state() != PendingClaim.State.PENDING
                || handler instanceof HandlerMethod method && method.hasMethodAnnotation(ClaimedWithFirstWrite.class)) {
            return true;
        }
        if (claiming.record(() -> store.claim(claim))) {
            claim.claimedBy(true);
            return true;
        }
        claim.taken();
        return false;
    }
}
