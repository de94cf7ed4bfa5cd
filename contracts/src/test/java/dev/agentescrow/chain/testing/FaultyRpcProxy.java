package dev.agentescrow.chain.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JSON-RPC proxy on a free loopback port in front of a node, for fault-injection tests. By
 * default it forwards every request. Faults are armed per JSON-RPC method (or {@link #ANY}):
 * <ul>
 *   <li>{@link #failNext}: answer HTTP 503 without forwarding (the node never sees the request);</li>
 *   <li>{@link #loseResponseNext}: forward, let the node apply the request, then answer HTTP 502,
 *       as when a connection drops after a transaction was accepted.</li>
 * </ul>
 * A JSON-RPC batch (one HTTP request carrying several calls) is one request: a fault armed for
 * any method in it hits the whole batch, as a dropped connection would. It counts forwarded
 * requests per method, each call of a batch once.
 */
public final class FaultyRpcProxy implements AutoCloseable {
    /** Matches every method when arming a fault. */
    public static final String ANY = "*";
    private static final Pattern METHOD = Pattern.compile("\"method\"\\s*:\\s*\"([^\"]+)\"");

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(8);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final URI target;
    private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> lostResponses = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> forwarded = new ConcurrentHashMap<>();

    private FaultyRpcProxy(URI target) throws IOException {
        this.target = target;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** Starts a proxy forwarding to {@code targetRpcUrl}. */
    public static FaultyRpcProxy start(String targetRpcUrl) {
        try {
            return new FaultyRpcProxy(URI.create(targetRpcUrl));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the RPC proxy", e);
        }
    }

    public String rpcUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The next {@code count} requests of {@code method} get HTTP 503 and never reach the node. */
    public void failNext(String method, int count) {
        failures.computeIfAbsent(method, m -> new AtomicInteger()).addAndGet(count);
    }

    /** The next {@code count} requests of {@code method} reach the node, but their answers are lost. */
    public void loseResponseNext(String method, int count) {
        lostResponses.computeIfAbsent(method, m -> new AtomicInteger()).addAndGet(count);
    }

    /** Requests of {@code method} that reached the node. */
    public int forwardedCount(String method) {
        AtomicInteger count = forwarded.get(method);
        return count == null ? 0 : count.get();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            List<String> methods = methodsOf(new String(body, StandardCharsets.UTF_8));
            if (take(failures, methods)) {
                respond(exchange, 503, "injected failure before the node");
                return;
            }
            HttpResponse<byte[]> response;
            try {
                response = http.send(HttpRequest.newBuilder(target)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                respond(exchange, 502, "node unreachable: " + e.getMessage());
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                respond(exchange, 503, "proxy interrupted");
                return;
            }
            for (String method : methods) {
                forwarded.computeIfAbsent(method, m -> new AtomicInteger()).incrementAndGet();
            }
            if (take(lostResponses, methods)) {
                respond(exchange, 502, "injected loss of the node's answer");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(response.statusCode(), response.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(response.body());
            }
        }
    }

    /** Takes one armed fault of the first of {@code methods} (or {@link #ANY}) that has one left. */
    private static boolean take(Map<String, AtomicInteger> armed, List<String> methods) {
        List<String> keys = new ArrayList<>(methods);
        keys.add(ANY);
        for (String key : keys) {
            AtomicInteger remaining = armed.get(key);
            if (remaining != null && remaining.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
                return true;
            }
        }
        return false;
    }

    /** The methods called in a request body: one for a single call, each call's for a batch. */
    private static List<String> methodsOf(String body) {
        List<String> methods = new ArrayList<>();
        Matcher matcher = METHOD.matcher(body);
        while (matcher.find()) {
            methods.add(matcher.group(1));
        }
        return methods.isEmpty() ? List.of("unknown") : methods;
    }

    private static void respond(HttpExchange exchange, int status, String message) throws IOException {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
