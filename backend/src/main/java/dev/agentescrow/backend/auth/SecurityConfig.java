package dev.agentescrow.backend.auth;

import dev.agentescrow.backend.common.web.Problems;
import dev.agentescrow.chain.Address;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationManagerResolver;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.web.BearerTokenAuthenticationEntryPoint;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Stateless bearer authentication: a SIWE access token (JWT) or an API key ({@code aek_...}), both
 * as {@code Authorization: Bearer}. 401 and 403 are problem+json like every other error.
 */
@Configuration(proxyBeanMethods = false)
public class SecurityConfig {

    @Bean
    SecurityFilterChain api(HttpSecurity http, AuthenticationManagerResolver<HttpServletRequest> managers) throws Exception {
        AuthenticationEntryPoint entryPoint = problemEntryPoint();
        AccessDeniedHandler denied = (request, response, e) -> Problems.write(request, response, HttpStatus.FORBIDDEN,
                "FORBIDDEN", "this principal may not do that", Map.of());
        http.csrf(csrf -> csrf.disable())
                .cors(cors -> cors.disable())
                .httpBasic(basic -> basic.disable())
                .formLogin(form -> form.disable())
                .logout(logout -> logout.disable())
                .requestCache(cache -> cache.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .authorizeHttpRequests(auth -> auth
                        .requestMatchers(HttpMethod.POST, "/api/v1/auth/nonce", "/api/v1/auth/login").permitAll()
                        .requestMatchers(HttpMethod.GET, "/api/v1/tokens").permitAll()
                        .requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/prometheus",
                                "/v3/api-docs", "/v3/api-docs/**", "/swagger-ui.html", "/swagger-ui/**", "/error")
                        .permitAll()
                        .requestMatchers("/api/v1/admin/**").hasAuthority(Roles.ADMIN)
                        .anyRequest().hasAuthority(Roles.AGENT))
                .oauth2ResourceServer(oauth -> oauth
                        .authenticationManagerResolver(managers)
                        .authenticationEntryPoint(entryPoint)
                        .accessDeniedHandler(denied))
                .exceptionHandling(e -> e.authenticationEntryPoint(entryPoint).accessDeniedHandler(denied));
        return http.build();
    }

    /** Picks the API-key check for {@code aek_} tokens and the JWT check for the rest. */
    @Bean
    AuthenticationManagerResolver<HttpServletRequest> authenticationManagers(AccessTokens tokens, ApiKeys apiKeys,
                                                                           Roles roles) {
        AuthenticationManager manager = authentication -> {
            String token = ((BearerTokenAuthenticationToken) authentication).getToken();
            if (token.startsWith(ApiKeys.PREFIX)) {
                Address owner = apiKeys.authenticate(token)
                        .orElseThrow(() -> new BadCredentialsException("unknown or revoked API key"));
                return new AgentAuthentication(owner, AgentAuthentication.Method.API_KEY, roles.of(owner));
            }
            Jwt jwt;
            try {
                jwt = tokens.decoder().decode(token);
            } catch (JwtException e) {
                throw new BadCredentialsException("invalid access token", e);
            }
            if (!AccessTokens.ISSUER.equals(jwt.getClaimAsString("iss")) || !Address.isValid(jwt.getSubject())) {
                throw new BadCredentialsException("invalid access token");
            }
            Address address = Address.of(jwt.getSubject());
            return new AgentAuthentication(address, AgentAuthentication.Method.JWT, roles.of(address));
        };
        return request -> manager;
    }

    static AuthenticationEntryPoint problemEntryPoint() {
        BearerTokenAuthenticationEntryPoint bearer = new BearerTokenAuthenticationEntryPoint();
        return (request, response, e) -> {
            bearer.commence(request, response, e);
            boolean presented = request.getHeader("Authorization") != null;
            Problems.write(request, response, HttpStatus.UNAUTHORIZED, presented ? "INVALID_TOKEN" : "UNAUTHENTICATED",
                    presented ? "the bearer token is invalid, expired or revoked" : "send Authorization: Bearer <token>",
                    Map.of());
        };
    }
}
