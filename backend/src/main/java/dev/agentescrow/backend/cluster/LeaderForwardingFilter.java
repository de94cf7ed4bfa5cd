package dev.agentescrow.backend.cluster;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.http.CachedBodyRequest;
import dev.agentescrow.backend.common.web.Problems;
import dev.agentescrow.backend.common.web.ReadFloor;
import dev.agentescrow.batcher.leadership.LeaderInfo;
import dev.agentescrow.batcher.leadership.LeadershipConfig;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.batcher.runtime.Batcher;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Writes go to the ledger's leader. A request that changes ledger state (POST, PUT, PATCH, DELETE
 * under {@code /api/}, except {@link ClusterProperties#localWritePaths()}) reaching an instance that
 * stands by is sent on to the leader the database names ({@link Batcher#leader()}) with its method,
 * path, query, body and the {@code Authorization}, {@code Idempotency-Key}, {@code Content-Type},
 * {@code Accept} and {@code X-Request-Id} headers, and the leader's answer (status, body, its
 * headers) is the client's. It runs after authentication and the per-principal rate limit (an
 * unauthenticated write is refused here) and before the idempotency filter: the leader claims the
 * key, never the standby, so a replay on either instance finds the same claim.
 *
 * <p>No loop: a forwarded request carries {@value #FORWARDED_BY} (this instance's id); an instance
 * that does not lead answers it with 503 {@code LEADER_UNAVAILABLE} instead of forwarding it again.
 * The same 503 (with {@code Retry-After: 1}) answers while no leader is known, while the database
 * still names this instance (it lost the lead, a takeover is under way), when the leader cannot be
 * reached, and when it does not answer within {@link ClusterProperties#forwardTimeout()} (then the
 * outcome is unknown: the client retries with the same {@code Idempotency-Key}).
 */
@Component
@Order(5)
public class LeaderForwardingFilter extends OncePerRequestFilter implements DisposableBean {
    /** Marks a request one instance forwarded to another; its value is the forwarding instance's id. */
    public static final String FORWARDED_BY = "X-Agentescrow-Forwarded-By";
    /** On a forwarded answer: the id of the leader that served it. */
    public static final String SERVED_BY_LEADER = "X-Agentescrow-Leader";
    public static final String CODE = "LEADER_UNAVAILABLE";

    private static final Logger log = LoggerFactory.getLogger(LeaderForwardingFilter.class);
    private static final Set<String> WRITES = Set.of("POST", "PUT", "PATCH", "DELETE");
    private static final List<String> FORWARDED_HEADERS = List.of("Authorization", "Idempotency-Key", "Content-Type",
            "Accept");
    /** Hop-by-hop and framing headers the servlet container sets itself. */
    private static final Set<String> NOT_COPIED_BACK = Set.of("connection", "keep-alive", "transfer-encoding",
            "content-length", "date", "server", "x-request-id", "upgrade", "te", "trailer");

    private final Batcher batcher;
    private final ClusterProperties cluster;
    private final LeadershipConfig self;
    private final ReadFloor floor;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient http;

    public LeaderForwardingFilter(Batcher batcher, ClusterProperties cluster, LeadershipConfig self, ReadFloor floor) {
        this.batcher = batcher;
        this.floor = floor;
        this.cluster = cluster;
        this.self = self;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(cluster.forwardConnectTimeout()).followRedirects(HttpClient.Redirect.NEVER)
                .executor(executor).build();
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return !WRITES.contains(request.getMethod()) || !path.startsWith("/api/")
                || cluster.localWritePaths().stream().anyMatch(path::startsWith);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (batcher.role() == Role.LEADER) {
            chain.doFilter(request, response);
            if (succeeded(response.getStatus()) && !ReadFloor.notedIn(request)) {
                noteLedgerPosition();
            }
            return;
        }
        String forwardedBy = request.getHeader(FORWARDED_BY);
        if (forwardedBy != null) {
            unavailable(request, response, "instance " + self.nodeId() + " received a request forwarded by "
                    + forwardedBy + " but does not lead (the lead is moving); retry with the same Idempotency-Key");
            return;
        }
        Optional<LeaderInfo> leader;
        try {
            leader = batcher.leader();
        } catch (RuntimeException e) {
            log.warn("could not read the leadership row: {}", e.toString());
            unavailable(request, response, "the ledger leader is not known (the database did not answer); retry with "
                    + "the same Idempotency-Key");
            return;
        }
        Optional<String> target = leader.flatMap(LeaderInfo::address);
        if (target.isEmpty()) {
            unavailable(request, response, "no ledger leader is known yet; retry with the same Idempotency-Key");
            return;
        }
        if (self.address().equals(target) || leader.get().leaderId().equals(self.nodeId())) {
            unavailable(request, response, "this instance lost the ledger's lead and a takeover is under way; "
                    + "retry with the same Idempotency-Key");
            return;
        }
        forward(request, response, leader.get(), baseUrl(target.get()));
    }

    private void forward(HttpServletRequest request, HttpServletResponse response, LeaderInfo leader, String base)
            throws IOException {
        String query = request.getQueryString();
        URI uri = URI.create(base + request.getRequestURI() + (query == null ? "" : "?" + query));
        byte[] body = CachedBodyRequest.bodyOf(request);
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(cluster.forwardTimeout())
                .method(request.getMethod(), body == null || body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        for (String name : FORWARDED_HEADERS) {
            String value = request.getHeader(name);
            if (value != null) {
                builder.header(name, value);
            }
        }
        Object requestId = request.getAttribute(AuditLog.REQUEST_ID);
        if (requestId != null) {
            builder.header("X-Request-Id", requestId.toString());
        }
        builder.header(FORWARDED_BY, self.nodeId());
        builder.header("X-Forwarded-For", request.getRemoteAddr());
        HttpResponse<byte[]> answer;
        try {
            answer = http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            log.warn("leader {} (epoch {}) at {} did not answer {} {} within {}", leader.leaderId(), leader.epoch(),
                    base, request.getMethod(), request.getRequestURI(), cluster.forwardTimeout());
            unavailable(request, response, "the ledger leader did not answer within " + cluster.forwardTimeout()
                    .toMillis() + " ms; the outcome is unknown: retry with the same Idempotency-Key");
            return;
        } catch (IOException e) {
            log.warn("leader {} (epoch {}) at {} unreachable: {}", leader.leaderId(), leader.epoch(), base,
                    e.toString());
            unavailable(request, response, "the ledger leader cannot be reached (a takeover may be under way); "
                    + "retry with the same Idempotency-Key");
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable(request, response, "forwarding to the ledger leader was interrupted; retry with the same "
                    + "Idempotency-Key");
            return;
        }
        if (succeeded(answer.statusCode())) {
            noteLedgerPosition();
        }
        response.setStatus(answer.statusCode());
        for (Map.Entry<String, List<String>> header : answer.headers().map().entrySet()) {
            if (header.getKey().startsWith(":") || NOT_COPIED_BACK.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                continue;
            }
            for (String value : header.getValue()) {
                response.addHeader(header.getKey(), value);
            }
        }
        response.setHeader(SERVED_BY_LEADER, leader.leaderId());
        response.getOutputStream().write(answer.body());
        response.flushBuffer();
    }

    private static boolean succeeded(int status) {
        return status >= 200 && status < 300;
    }

    /**
     * Read-your-writes for a write this instance answers without a receipt of its own (a write it
     * forwarded, or one that does not go through the ledger gateway): the last committed transfer's
     * seq, read after the leader answered, includes whatever the write committed; this instance's
     * reads wait for it ({@link ReadFloor}).
     */
    private void noteLedgerPosition() {
        try {
            floor.acknowledged(batcher.reads().lastCommittedSeq());
        } catch (RuntimeException e) {
            log.warn("could not read the ledger's position after a write: {}", e.toString());
        }
    }

    /** A stored address is a base URL ({@code http://host:port}) or a bare {@code host:port}. */
    static String baseUrl(String address) {
        String base = address.contains("://") ? address : "http://" + address;
        return base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    private static void unavailable(HttpServletRequest request, HttpServletResponse response, String detail)
            throws IOException {
        Problems.write(request, response, HttpStatus.SERVICE_UNAVAILABLE, CODE, detail, Map.of("Retry-After", "1"));
    }

    @Override
    public void destroy() {
        http.close();
        executor.close();
    }
}
