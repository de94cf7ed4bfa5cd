package dev.agentescrow.backend.common.http;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.web.Problems;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.UUID;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * First filter of every request: gives it a request id ({@code X-Request-Id}, echoed) and reads
 * its body once, refusing one larger than {@link #MAX_BODY_BYTES} with 413 BODY_TOO_LARGE.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class RequestEdgeFilter extends OncePerRequestFilter {
    /** The largest request body: a batch of 1,000 transfers fits with room to spare. */
    public static final int MAX_BODY_BYTES = 1024 * 1024;

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String incoming = request.getHeader("X-Request-Id");
        String requestId = incoming != null && incoming.matches("[A-Za-z0-9._-]{1,64}") ? incoming
                : UUID.randomUUID().toString();
        request.setAttribute(AuditLog.REQUEST_ID, requestId);
        response.setHeader("X-Request-Id", requestId);
        if (request.getContentLengthLong() > MAX_BODY_BYTES) {
            tooLarge(request, response);
            return;
        }
        String method = request.getMethod();
        if (!"POST".equals(method) && !"PUT".equals(method) && !"PATCH".equals(method)) {
            chain.doFilter(request, response);
            return;
        }
        byte[] body = read(request.getInputStream(), request.getContentLengthLong());
        if (body == null) {
            tooLarge(request, response);
            return;
        }
        chain.doFilter(new CachedBodyRequest(request, body), response);
    }

    /**
     * The body, or null when it is larger than {@link #MAX_BODY_BYTES}. With a Content-Length (at
     * most the limit, checked above) it is read straight into an array of that size; without one
     * (chunked) it grows as it comes. A body that ends early is what arrived.
     */
    private static byte[] read(InputStream in, long contentLength) throws IOException {
        if (contentLength >= 0) {
            byte[] body = in.readNBytes((int) contentLength);
            return in.read() < 0 ? body : null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
            if (out.size() > MAX_BODY_BYTES) {
                return null;
            }
        }
        return out.toByteArray();
    }

    private static void tooLarge(HttpServletRequest request, HttpServletResponse response) throws IOException {
        response.setHeader("Connection", "close");
        Problems.write(request, response, HttpStatus.CONTENT_TOO_LARGE, "BODY_TOO_LARGE",
                "the body is larger than " + MAX_BODY_BYTES + " bytes", Map.of());
    }
}
