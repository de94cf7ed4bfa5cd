package dev.agentescrow.backend.events;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Receipt;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;
import org.web3j.crypto.Keys;
import tools.jackson.databind.JsonNode;

/**
 * Events over real HTTP: a webhook receiver in the test (a JDK HttpServer on a free loopback port)
 * gets every event once per id with a valid signature across an outage of its own; the SSE stream
 * resumes after Last-Event-ID with exactly the missed events; webhook validation, 401, another
 * principal's endpoint 404 and idempotent replays.
 */
class EventsIT extends BackendITSupport {
    private static final int PAYER = 14;

    @Autowired
    EventPublisher publisher;
    @Autowired
    LedgerEventFeed ledgerFeed;
    @Autowired
    EventSequencer sequencer;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    TransactionTemplate transactions;

    /** A webhook receiver on a free loopback port that answers 500 until told to recover. */
    static final class Receiver implements AutoCloseable {
        record Received(String eventId, String signature, byte[] body, int answered) {
        }

        final HttpServer server;
        final List<Received> received = new CopyOnWriteArrayList<>();
        final AtomicInteger failuresLeft;

        Receiver(int failures) throws IOException {
            failuresLeft = new AtomicInteger(failures);
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/hook", exchange -> {
                byte[] body;
                try (InputStream in = exchange.getRequestBody()) {
                    body = in.readAllBytes();
                }
                int status = failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 500 : 200;
                received.add(new Received(exchange.getRequestHeaders().getFirst(WebhookDeliverer.EVENT_ID_HEADER),
                        exchange.getRequestHeaders().getFirst(WebhookSignature.HEADER), body, status));
                exchange.sendResponseHeaders(status, -1);
                exchange.close();
            });
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        }

        long accepted(String eventId) {
            return received.stream().filter(r -> eventId.equals(r.eventId()) && r.answered() == 200).count();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void a_webhook_receiver_gets_every_event_once_per_id_with_a_valid_signature_across_an_outage() throws Exception {
        ApiClient api = api();
        String token = CHAIN.deployment().token().checksummed();
        String payer = login(PAYER);
        String payeeKey = freshPrivateKey();
        String payee = loginWith(payeeKey);
        String payeeAddress = addressOf(payeeKey);
        try (Receiver receiver = new Receiver(3)) {
            ApiClient.Response created = api.post("/api/v1/webhooks", payer, key(),
                    Map.of("url", receiver.url(), "description", "test receiver"));
            assertThat(created.status()).as(created.toString()).isEqualTo(201);
            String secret = created.json().path("secret").asString();
            String endpointId = created.json().path("id").asString();
            assertThat(secret).startsWith(Webhooks.SECRET_PREFIX);
            assertThat(api.get("/api/v1/webhooks", payer).raw().body()).contains(endpointId).doesNotContain(secret);

            assertThat(api.post("/api/v1/faucet", payer, key(), Map.of("token", token, "amount", "3000000")).status())
                    .isEqualTo(201);
            Receipt deposit = CHAIN.deployment().vault(CHAIN.client()).depositWithPermit(CHAIN.account(PAYER),
                    Address.of(token), Amount.parse("3000000"), Instant.now().plusSeconds(3600));
            String depositObject = deposit.txHash().value() + ":";
            awaitUntil("the deposit credited", () -> api.get("/api/v1/deposits", payer).json().path("items").valueStream()
                    .anyMatch(d -> d.path("txHash").asString().equals(deposit.txHash().value())
                            && d.path("state").asString().equals("CREDITED")));
            ApiClient.Response paid = api.post("/api/v1/transfers", payer, key(),
                    Map.of("to", payeeAddress, "token", token, "amount", "700000", "reference", "events-it"));
            assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
            String transferId = paid.json().path("id").asString();
            ApiClient.Response withdrawal = api.post("/api/v1/withdrawals", payer, key(),
                    Map.of("token", token, "amount", "500000"));
            assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
            String withdrawalId = withdrawal.json().path("id").asString();
            UUID escrowEvent = publisher.publish(EventType.ESCROW_CREATED, List.of(Address.of(address(PAYER))),
                    "escrow-events-it", Map.of("escrowId", "escrow-events-it", "amount", "1"));

            Map<String, String> expected = new ConcurrentHashMap<>();
            awaitUntil("deposit.credited, transfer.settled, withdrawal.paid and escrow.created in the payer's feed", () -> {
                for (JsonNode event : allEvents(payer)) {
                    String type = event.path("type").asString();
                    String object = event.path("objectId").asString();
                    if (type.equals("deposit.credited") && object.startsWith(depositObject)
                            || type.equals("transfer.settled") && object.equals(transferId)
                            || type.equals("withdrawal.paid") && object.equals(withdrawalId)
                            || type.equals("escrow.created") && event.path("id").asString().equals(escrowEvent.toString())) {
                        expected.put(type, event.path("id").asString());
                    }
                }
                return expected.size() == 4;
            });
            awaitUntil("every expected event accepted by the receiver",
                    () -> expected.values().stream().allMatch(id -> receiver.accepted(id) >= 1));

            assertThat(receiver.received.stream().filter(r -> r.answered() == 500)).as("the outage").hasSize(3);
            for (String id : expected.values()) {
                assertThat(receiver.accepted(id)).as("accepted once: " + id).isEqualTo(1);
            }
            long now = Instant.now().getEpochSecond();
            for (Receiver.Received r : receiver.received) {
                assertThat(WebhookSignature.verify(secret, r.signature(), r.body(), now, 300))
                        .as("signature of " + r.eventId()).isTrue();
                assertThat(ApiClient.JSON.readTree(r.body()).path("id").asString()).isEqualTo(r.eventId());
            }
            JsonNode settled = receivedBody(receiver, expected.get("transfer.settled"));
            assertThat(settled.path("type").asString()).isEqualTo("transfer.settled");
            assertThat(settled.path("data").path("from").asString()).isEqualTo(address(PAYER));
            assertThat(settled.path("data").path("to").asString()).isEqualTo(payeeAddress);
            assertThat(settled.path("data").path("amount").asString()).isEqualTo("700000");
            assertThat(settled.path("data").path("txHash").asString()).startsWith("0x");
            JsonNode credited = receivedBody(receiver, expected.get("deposit.credited"));
            assertThat(credited.path("data").path("amount").asString()).isEqualTo("3000000");
            assertThat(credited.path("data").path("account").asString()).isEqualTo(address(PAYER));
            assertThat(allEvents(payee).stream().map(e -> e.path("id").asString()))
                    .as("the payee sees the settlement too").contains(expected.get("transfer.settled"))
                    .doesNotContain(expected.get("withdrawal.paid"));

            JsonNode deliveries = api.get("/api/v1/webhooks/" + endpointId + "/deliveries?limit=200", payer).json()
                    .path("items");
            List<JsonNode> retried = deliveries.valueStream().filter(d -> d.path("attempts").asInt() > 1).toList();
            assertThat(retried).as("deliveries retried after the outage").isNotEmpty();
            for (JsonNode delivery : retried) {
                List<JsonNode> attempts = delivery.path("attemptLog").valueStream().toList();
                assertThat(attempts.getFirst().path("statusCode").asInt()).isEqualTo(500);
                if (delivery.path("state").asString().equals("DELIVERED")) {
                    assertThat(attempts.getLast().path("statusCode").asInt()).isEqualTo(200);
                }
            }
            assertThat(deliveries.valueStream().map(d -> d.path("eventId").asString()))
                    .containsAll(expected.values());

            // a cursor set back (lost, or a restart from an old copy) publishes no fact twice
            jdbc.update("UPDATE backend.event_cursors SET position = 0");
            awaitUntil("the pollers walked the ledger and the batches again", () -> {
                ledgerFeed.pollDeposits();
                ledgerFeed.pollSettlements();
                sequencer.sequencePending();
                return jdbc.queryForObject("SELECT min(position) FROM backend.event_cursors", Long.class) > 0;
            });
            List<JsonNode> again = allEvents(payer);
            assertThat(again.stream().filter(e -> e.path("objectId").asString().equals(transferId))).hasSize(1);
            assertThat(again.stream().filter(e -> e.path("objectId").asString().equals(withdrawalId))).hasSize(1);
            assertThat(again.stream().filter(e -> e.path("objectId").asString().startsWith(depositObject))).hasSize(1);
            for (String id : expected.values()) {
                assertThat(receiver.accepted(id)).as("still accepted once: " + id).isEqualTo(1);
            }
        }
    }

    /** Attack: one principal opens streams until the instance runs out; the sixth is refused, others still open theirs. */
    @Test
    void a_principal_opens_at_most_five_streams_and_a_closed_one_frees_its_place() throws Exception {
        String token = loginWith(freshPrivateKey());
        List<SseReader> open = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                open.add(SseReader.open(port, token, null));
            }
            assertThat(streamStatus(token)).isEqualTo("429 STREAM_LIMIT");
            assertThat(streamStatus(loginWith(freshPrivateKey()))).as("another principal").isEqualTo("200");
            open.removeFirst().close();
            awaitUntil("the closed stream's place is free again", () -> streamStatus(token).equals("200"));
        } finally {
            for (SseReader reader : open) {
                reader.close();
            }
        }
    }

    /** Opens a stream and closes it at once: its status, and the problem code when refused. */
    private String streamStatus(String token) {
        try {
            return streamStatusOrThrow(token);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String streamStatusOrThrow(String token) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        java.net.URI.create("http://localhost:" + port + "/api/v1/events/stream"))
                .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream").GET().build(),
                HttpResponse.BodyHandlers.ofLines());
        try (Stream<String> body = response.body()) {
            if (response.statusCode() == 200) {
                return "200";
            }
            return response.statusCode() + " " + ApiClient.JSON.readTree(String.join("", body.toList())).path("code").asString();
        }
    }

    @Test
    void the_sse_stream_resumed_with_last_event_id_gets_exactly_the_missed_events() throws Exception {
        String key = freshPrivateKey();
        String token = loginWith(key);
        Address owner = Address.of(addressOf(key));
        List<String> first = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            first.add(publisher.publish(EventType.ESCROW_ACCEPTED, List.of(owner), "escrow-sse-" + i,
                    Map.of("n", i)).toString());
        }
        String lastId;
        try (SseReader stream = SseReader.open(port, token, null)) {
            List<SseReader.Event> events = stream.next(3);
            assertThat(events.stream().map(e -> ApiClient.JSON.readTree(e.data()).path("id").asString()).toList())
                    .isEqualTo(first);
            lastId = events.getLast().id();
        }
        transactions.executeWithoutResult(status -> {
            publisher.publish(EventType.ESCROW_DISPUTED, List.of(owner), "escrow-rolled-back", Map.of());
            status.setRollbackOnly();
        });
        List<String> missed = new ArrayList<>();
        for (int i = 3; i < 5; i++) {
            missed.add(publisher.publish(EventType.ESCROW_RELEASED, List.of(owner), "escrow-sse-" + i,
                    Map.of("n", i)).toString());
        }
        UUID once = publisher.publishOnce("escrow.resolved:sse:" + owner.hex(), EventType.ESCROW_RESOLVED,
                List.of(owner), "escrow-sse-once", Map.of("split", List.of("1", "2")));
        assertThat(publisher.publishOnce("escrow.resolved:sse:" + owner.hex(), EventType.ESCROW_RESOLVED,
                List.of(owner), "escrow-sse-once", Map.of("split", List.of("1", "2")))).isEqualTo(once);
        missed.add(once.toString());
        try (SseReader stream = SseReader.open(port, token, lastId)) {
            List<SseReader.Event> events = stream.next(3);
            assertThat(events.stream().map(e -> ApiClient.JSON.readTree(e.data()).path("id").asString()).toList())
                    .isEqualTo(missed);
            assertThat(ApiClient.JSON.readTree(events.getFirst().data()).path("type").asString())
                    .isEqualTo("escrow.released");
            assertThat(stream.awaitComment()).as("a heartbeat").isTrue();
            assertThat(stream.pendingEvents()).as("nothing else").isZero();
        }
        JsonNode list = api().get("/api/v1/events?limit=2", token).json();
        assertThat(list.path("items").valueStream().map(e -> e.path("id").asString()).toList())
                .isEqualTo(first.subList(0, 2));
        JsonNode rest = api().get("/api/v1/events?after=" + list.path("nextCursor").asString(), token).json();
        assertThat(rest.path("items").valueStream().map(e -> e.path("id").asString()).toList())
                .containsExactly(first.get(2), missed.get(0), missed.get(1), missed.get(2));
        assertThat(rest.path("nextCursor").isNull()).isTrue();
        assertThat(api().get("/api/v1/events?after=x", token).code()).isEqualTo("VALIDATION_FAILED");
    }

    @Test
    void webhook_validation_401_another_principals_endpoint_404_and_idempotent_replays() {
        ApiClient api = api();
        String owner = loginWith(freshPrivateKey());
        String other = loginWith(freshPrivateKey());
        for (String path : List.of("/api/v1/webhooks", "/api/v1/events", "/api/v1/events/stream",
                "/api/v1/webhooks/" + UUID.randomUUID() + "/deliveries")) {
            ApiClient.Response response = api.get(path, null);
            assertThat(response.status()).as(path).isEqualTo(401);
            assertThat(response.code()).isEqualTo("UNAUTHENTICATED");
        }
        assertThat(api.post("/api/v1/webhooks", null, key(), Map.of("url", "http://127.0.0.1/h")).status()).isEqualTo(401);

        Map<String, String> refusals = Map.of(
                "ftp://127.0.0.1/hook", "UNSUPPORTED_SCHEME",
                "http://user:secret@127.0.0.1/hook", "CREDENTIALS_IN_URL",
                "http://127.0.0.1/hook#part", "FRAGMENT_IN_URL",
                "not a url", "MALFORMED_URL",
                "https://127.0.0.1/" + "a".repeat(2100), "URL_TOO_LONG");
        refusals.forEach((url, code) -> {
            ApiClient.Response refused = api.post("/api/v1/webhooks", owner, key(), Map.of("url", url));
            assertThat(refused.status()).as(url).isEqualTo(400);
            assertThat(refused.json().path("errors").get(0).path("field").asString()).isEqualTo("url");
            assertThat(refused.json().path("errors").get(0).path("code").asString()).as(url).isEqualTo(code);
        });
        ApiClient.Response unknownType = api.post("/api/v1/webhooks", owner, key(),
                Map.of("url", "http://127.0.0.1:9/hook", "types", List.of("deposit.credited", "nope")));
        assertThat(unknownType.json().path("errors").get(0).path("code").asString()).isEqualTo("UNKNOWN_EVENT_TYPE");
        assertThat(api.post("/api/v1/webhooks", owner, key(), "{}").json().path("errors").get(0).path("code")
                .asString()).isEqualTo("REQUIRED");
        assertThat(api.post("/api/v1/webhooks", owner, key(), Map.of("url", "http://127.0.0.1:9/", "extra", 1)).code())
                .isEqualTo("UNKNOWN_FIELD");

        String replayKey = key();
        Map<String, Object> body = Map.of("url", "http://127.0.0.1:9/hook", "types", List.of("transfer.settled"));
        ApiClient.Response first = api.post("/api/v1/webhooks", owner, replayKey, body);
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        ApiClient.Response replay = api.post("/api/v1/webhooks", owner, replayKey, body);
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        assertThat(api.post("/api/v1/webhooks", owner, replayKey, Map.of("url", "http://127.0.0.1:10/hook")).code())
                .isEqualTo("IDEMPOTENCY_KEY_REUSED");
        String id = first.json().path("id").asString();
        assertThat(api.get("/api/v1/webhooks", owner).json().path("items")).hasSize(1);
        assertThat(api.get("/api/v1/webhooks/" + id, owner).json().path("types").get(0).asString())
                .isEqualTo("transfer.settled");

        assertThat(api.get("/api/v1/webhooks/" + id, other).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/webhooks/" + id + "/deliveries", other).status()).isEqualTo(404);
        assertThat(api.delete("/api/v1/webhooks/" + id, other).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/webhooks/" + id + "/deliveries?cursor=bad", owner).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api.get("/api/v1/webhooks/" + id + "/deliveries?limit=0", owner).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api.get("/api/v1/webhooks/not-a-uuid", owner).status()).isEqualTo(400);

        assertThat(api.delete("/api/v1/webhooks/" + id, owner).status()).isEqualTo(204);
        assertThat(api.delete("/api/v1/webhooks/" + id, owner).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/webhooks", owner).json().path("items")).isEmpty();
        assertThat(api.get("/api/v1/webhooks/" + id + "/deliveries", owner).status()).isEqualTo(200);
    }

    @Test
    void attack_a_webhook_secret_never_rests_in_the_idempotency_record_nor_shows_again_on_a_replay() {
        ApiClient api = api();
        String owner = loginWith(freshPrivateKey());
        String replayKey = key();
        Map<String, Object> body = Map.of("url", "http://127.0.0.1:9/secret-hook");
        ApiClient.Response first = api.post("/api/v1/webhooks", owner, replayKey, body);
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        String secret = first.json().path("secret").asString();
        assertThat(secret).startsWith(Webhooks.SECRET_PREFIX);
        ApiClient.Response replay = api.post("/api/v1/webhooks", owner, replayKey, body);
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        assertThat(replay.json().path("secret").isNull()).as(replay.toString()).isTrue();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.idempotency_keys WHERE body IS NOT NULL"
                + " AND position(convert_to(?, 'UTF8') in body) > 0", Integer.class, secret))
                .as("the webhook's signing secret stored in an Idempotency-Key record").isZero();
    }

    @Test
    void attack_a_webhook_port_out_of_range_is_refused_and_an_endpoint_stored_with_one_records_failed_attempts() {
        ApiClient api = api();
        String owner = loginWith(freshPrivateKey());
        ApiClient.Response refused = api.post("/api/v1/webhooks", owner, key(), Map.of("url", "http://127.0.0.1:99999/hook"));
        assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
        assertThat(refused.json().path("errors").get(0).path("code").asString()).isEqualTo("MALFORMED_URL");

        // An endpoint registered before that check: the HTTP client refused its URL with an
        // IllegalArgumentException, so no attempt was ever recorded and the delivery stayed PENDING for
        // good, claimed again after every lease (and its event kept from the retention).
        Address stored = Address.of(addressOf(freshPrivateKey()));
        UUID endpoint = UUID.randomUUID();
        jdbc.update("INSERT INTO backend.webhook_endpoints (id, owner, url, secret, created_at) VALUES (?, ?, ?, ?, now())",
                endpoint, stored.hex(), "http://127.0.0.1:99999/hook", Webhooks.SECRET_PREFIX + "test");
        publisher.publish(EventType.ESCROW_CREATED, List.of(stored), "escrow-bad-port", Map.of());
        awaitUntil("a failed attempt recorded for the endpoint with a port out of range", () -> jdbc.queryForObject(
                "SELECT count(*) FROM backend.webhook_attempts a JOIN backend.webhook_deliveries d ON d.id = a.delivery_id"
                        + " WHERE d.endpoint_id = ? AND a.status_code IS NULL AND a.error IS NOT NULL", Integer.class,
                endpoint) > 0);
    }

    @Test
    void an_endpoint_gets_only_its_types_and_deleting_one_cancels_its_pending_deliveries() throws Exception {
        ApiClient api = api();
        String key = freshPrivateKey();
        String token = loginWith(key);
        Address owner = Address.of(addressOf(key));
        try (Receiver filtered = new Receiver(0); Receiver broken = new Receiver(Integer.MAX_VALUE)) {
            ApiClient.Response onlyReleases = api.post("/api/v1/webhooks", token, key(),
                    Map.of("url", filtered.url(), "types", List.of("escrow.released")));
            assertThat(onlyReleases.status()).as(onlyReleases.toString()).isEqualTo(201);
            ApiClient.Response failing = api.post("/api/v1/webhooks", token, key(), Map.of("url", broken.url()));
            String failingId = failing.json().path("id").asString();
            String created = publisher.publish(EventType.ESCROW_CREATED, List.of(owner), "escrow-types", Map.of())
                    .toString();
            String released = publisher.publish(EventType.ESCROW_RELEASED, List.of(owner), "escrow-types", Map.of())
                    .toString();

            awaitUntil("the release delivered to the filtered endpoint", () -> filtered.accepted(released) == 1);
            awaitUntil("the failing endpoint retried both events", () -> broken.received.stream()
                    .filter(r -> r.eventId().equals(created)).count() >= 2
                    && broken.received.stream().filter(r -> r.eventId().equals(released)).count() >= 2);
            assertThat(filtered.received.stream().map(Receiver.Received::eventId)).containsExactly(released);

            assertThat(api.delete("/api/v1/webhooks/" + failingId, token).status()).isEqualTo(204);
            JsonNode deliveries = api.get("/api/v1/webhooks/" + failingId + "/deliveries", token).json().path("items");
            assertThat(deliveries).hasSize(2);
            for (JsonNode delivery : deliveries) {
                assertThat(delivery.path("state").asString()).isEqualTo("CANCELLED");
                assertThat(delivery.path("attemptLog").valueStream().map(a -> a.path("statusCode").asInt()))
                        .isNotEmpty().containsOnly(500);
            }
        }
    }

    private List<JsonNode> allEvents(String accessToken) {
        List<JsonNode> events = new ArrayList<>();
        String after = "0";
        while (after != null) {
            JsonNode page = api().get("/api/v1/events?limit=500&after=" + after, accessToken).json();
            page.path("items").forEach(events::add);
            after = page.path("nextCursor").isNull() || page.path("nextCursor").isMissingNode() ? null
                    : page.path("nextCursor").asString();
        }
        return events;
    }

    private static JsonNode receivedBody(Receiver receiver, String eventId) {
        return receiver.received.stream().filter(r -> eventId.equals(r.eventId()) && r.answered() == 200).findFirst()
                .map(r -> ApiClient.JSON.readTree(r.body())).orElseThrow();
    }

    /** Reads an SSE response line by line on its own thread. */
    static final class SseReader implements AutoCloseable {
        record Event(String id, String data) {
        }

        private static final HttpClient HTTP = HttpClient.newHttpClient();
        private final BlockingQueue<Object> items = new LinkedBlockingQueue<>();
        private final Stream<String> lines;
        private final Thread reader;

        private SseReader(Stream<String> lines) {
            this.lines = lines;
            this.reader = Thread.ofVirtual().start(() -> {
                String id = null;
                StringBuilder data = new StringBuilder();
                try {
                    for (String line : (Iterable<String>) lines::iterator) {
                        if (line.startsWith(":")) {
                            items.add(Boolean.TRUE);
                        } else if (line.startsWith("id:")) {
                            id = line.substring(3).trim();
                        } else if (line.startsWith("data:")) {
                            data.append(line.substring(5).trim());
                        } else if (line.isEmpty() && !data.isEmpty()) {
                            items.add(new Event(id, data.toString()));
                            data.setLength(0);
                        }
                    }
                } catch (RuntimeException e) {
                    items.add(e.toString());
                }
            });
        }

        static SseReader open(int port, String token, String lastEventId) throws Exception {
            HttpRequest.Builder request = HttpRequest.newBuilder(
                    java.net.URI.create("http://localhost:" + port + "/api/v1/events/stream"))
                    .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream").GET();
            if (lastEventId != null) {
                request.header("Last-Event-ID", lastEventId);
            }
            HttpResponse<Stream<String>> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofLines());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
            return new SseReader(response.body());
        }

        List<Event> next(int count) throws InterruptedException {
            List<Event> events = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (events.size() < count) {
                Object item = items.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertThat(item).as("event " + events.size() + " of " + count).isNotNull();
                if (item instanceof Event event) {
                    events.add(event);
                }
            }
            return events;
        }

        /** Waits for a comment (heartbeat) line, counting no events in between. */
        boolean awaitComment() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                Object item = items.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (Boolean.TRUE.equals(item)) {
                    return true;
                }
                if (item instanceof Event) {
                    unexpected.incrementAndGet();
                }
            }
            return false;
        }

        private final AtomicInteger unexpected = new AtomicInteger();

        int pendingEvents() {
            return unexpected.get() + (int) items.stream().filter(i -> i instanceof Event).count();
        }

        @Override
        public void close() {
            lines.close();
            reader.interrupt();
        }
    }
}
