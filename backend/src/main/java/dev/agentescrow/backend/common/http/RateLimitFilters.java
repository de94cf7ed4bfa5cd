package dev.agentescrow.backend.common.http;

import dev.agentescrow.backend.common.web.Problems;
import dev.agentescrow.backend.config.BackendProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Map;
import java.util.OptionalLong;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Rate limits: per client IP before authentication, per principal after it. A refused request is
 * 429 RATE_LIMITED with {@code Retry-After} (seconds).
 */
@Configuration(proxyBeanMethods = false)
public class RateLimitFilters {
    /** Security's filter chain runs at -100: the IP limit before it, the principal limit after it. */
    static final int IP_ORDER = Ordered.HIGHEST_PRECEDENCE + 20;
    static final int PRINCIPAL_ORDER = 0;

    @Bean
    FilterRegistrationBean<OncePerRequestFilter> ipRateLimit(BackendProperties properties) {
        RateLimits limits = new RateLimits(properties.limits().requestsPerSecondPerIp());
        FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(
                filter(request -> "ip:" + request.getRemoteAddr(), limits));
        registration.setOrder(IP_ORDER);
        return registration;
    }

    @Bean
    FilterRegistrationBean<OncePerRequestFilter> principalRateLimit(BackendProperties properties) {
        RateLimits limits = new RateLimits(properties.limits().requestsPerSecondPerPrincipal());
        FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(filter(request -> {
            Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
            return authentication == null || !authentication.isAuthenticated() ? null : authentication.getName();
        }, limits));
        registration.setOrder(PRINCIPAL_ORDER);
        return registration;
    }

    private static OncePerRequestFilter filter(java.util.function.Function<HttpServletRequest, String> keyOf,
                                               RateLimits limits) {
        return new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                    throws ServletException, IOException {
                String key = keyOf.apply(request);
                OptionalLong wait = key == null || request.getRequestURI().startsWith("/actuator/")
                        ? OptionalLong.empty() : limits.tryAcquire(key);
                if (wait.isPresent()) {
                    Problems.write(request, response, HttpStatus.TOO_MANY_REQUESTS, "RATE_LIMITED",
                            "too many requests; retry after " + wait.getAsLong() + " s",
                            Map.of("Retry-After", Long.toString(wait.getAsLong())));
                    return;
                }
                chain.doFilter(request, response);
            }
        };
    }
}
