package dev.agentescrow.backend.auth;

import dev.agentescrow.backend.config.BackendProperties;
import java.time.Duration;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * The domain and URI SIWE messages must name: {@code SIWE_DOMAIN} / {@code SIWE_URI}, or by
 * default {@code localhost:<port>} and {@code http://localhost:<port>} of the running server.
 */
@Component
public class SiweSettings {
    private final BackendProperties.Siwe configured;
    private volatile int port;

    public SiweSettings(BackendProperties properties) {
        this.configured = properties.siwe();
    }

    @EventListener
    void onStarted(WebServerInitializedEvent event) {
        port = event.getWebServer().getPort();
    }

    public String domain() {
        return has(configured.domain()) ? configured.domain() : "localhost:" + port;
    }

    public String uri() {
        return has(configured.uri()) ? configured.uri() : "http://localhost:" + port;
    }

    public Duration nonceTtl() {
        return configured.nonceTtl();
    }

    public Duration maxMessageAge() {
        return configured.maxMessageAge();
    }

    private static boolean has(String value) {
        return value != null && !value.isBlank();
    }
}
