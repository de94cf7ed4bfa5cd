package dev.agentescrow.backend;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.common.ApiSteps;
import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.transfer.AmountLimits;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.math.BigInteger;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.JsonNode;

/**
 * The conventions every endpoint follows: Idempotency-Key (replay, conflicting replay, parallel
 * replays with one effect), problem+json for every refusal and no 5xx for any input, 404 for
 * another principal's resource, limits and rate limits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConventionsIT extends BackendITSupport {
    private static final int PAYER = 12;
    private static final int PAYEE = 13;
    /** A dev account no other test class signs in with: its audit records are only what this test does. */
    private static final int STRANGER = 7;
    private String payer;
    @Autowired
    private MeterRegistry meters;
    @Autowired
    private AmountLimits limits;
    @Autowired
    private JdbcTemplate jdbc;
    @Autowired
    private dev.agentescrow.backend.idempotency.IdempotencyStore idempotencyStore;
    private String payee;
    private String token;

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        payer = login(PAYER);
        payee = login(PAYEE);
        var vault = CHAIN.deployment().vault(CHAIN.client());
        var erc20 = CHAIN.deployment().token(CHAIN.client());
        // Minted by the service's faucet, the one signer of the token owner's key while the service runs.
        assertThat(api().post("/api/v1/faucet", payer, key(), Map.of("token", token, "amount", "10000000")).status())
                .isEqualTo(201);
        erc20.approve(CHAIN.account(PAYER), vault.address(), Amount.of(10_000_000));
        vault.deposit(CHAIN.account(PAYER), Address.of(token), Amount.of(10_000_000));
        awaitUntil("the payer's deposit credited", () -> available(payer).signum() > 0);
    }

    private Map<String, Object> payment(String amount) {
        return Map.of("to", address(PAYEE), "token", token, "amount", amount);
    }

    @Test
    void a_replay_returns_the_first_response_and_a_different_body_is_422() {
        String key = key();
        ApiClient.Response first = api().post("/api/v1/transfers", payer, key, payment("1000"));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        ApiClient.Response replay = api().post("/api/v1/transfers", payer, key, payment("1000"));
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        assertThat(replay.json().path("sequence").asLong()).isEqualTo(first.json().path("sequence").asLong());
        ApiClient.Response conflict = api().post("/api/v1/transfers", payer, key, payment("1001"));
        assertThat(conflict.status()).isEqualTo(422);
        assertThat(conflict.code()).isEqualTo("IDEMPOTENCY_KEY_REUSED");
        ApiClient.Response otherPrincipal = api().post("/api/v1/transfers", payee, key,
                Map.of("to", address(PAYER), "token", token, "amount", "1"));
        assertThat(otherPrincipal.status()).as("keys are scoped to the principal").isIn(201, 422);
        assertThat(otherPrincipal.code()).isNotEqualTo("IDEMPOTENCY_KEY_REUSED");
    }

    @Test
    void a_payment_whose_stored_response_a_crash_lost_answers_the_same_on_a_later_replay_and_pays_once() {
        // The stored response of a 201 payment commits without its own WAL flush: a crash may lose it.
        BigInteger before = available(payer);
        String key = key();
        ApiClient.Response first = api().post("/api/v1/transfers", payer, key, payment("321"));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        assertThat(api().get("/api/v1/transfers/" + first.json().path("id").asString(), payer).json()
                .path("committedAt")).as("the answer's time is the one the ledger keeps").isEqualTo(first.json().path("committedAt"));
        // What the database holds after such a crash: the claim (flushed by the ledger's commit), no response.
        assertThat(jdbc.update("UPDATE backend.idempotency_keys SET state = 'IN_FLIGHT', status = NULL,"
                + " content_type = NULL, body = NULL, completed_at = NULL WHERE idempotency_key = ?", key)).isEqualTo(1);
        ApiClient.Response inFlight = api().post("/api/v1/transfers", payer, key, payment("321"));
        assertThat(inFlight.status()).isEqualTo(409);
        assertThat(inFlight.code()).isEqualTo("IDEMPOTENCY_REQUEST_IN_FLIGHT");
        jdbc.update("UPDATE backend.idempotency_keys SET created_at = now() - interval '6 minutes'"
                + " WHERE idempotency_key = ?", key);

        ApiClient.Response replay = api().post("/api/v1/transfers", payer, key, payment("321"));
        assertThat(replay.status()).as(replay.toString()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).as("run again, not replayed from a record").isNull();
        assertThat(replay.json()).isEqualTo(first.json());
        assertThat(before.subtract(available(payer))).as("paid once").isEqualTo(BigInteger.valueOf(321));
        ApiClient.Response stored = api().post("/api/v1/transfers", payer, key, payment("321"));
        assertThat(stored.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(stored.json()).isEqualTo(first.json());
    }

    @Test
    void a_payment_claims_its_key_in_the_statement_of_its_reservation_and_other_posts_before_their_handler() {
        Timer claims = meters.get(ApiSteps.NAME).tag("step", "idempotency-claim").timer();
        Timer reservations = meters.get(ApiSteps.NAME).tag("step", "daily-reservation").timer();
        long claimed = claims.count();
        long reserved = reservations.count();
        String key = key();
        ApiClient.Response paid = api().post("/api/v1/transfers", payer, key, payment("12"));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        assertThat(claims.count()).as("no round trip of its own for the payment's claim").isEqualTo(claimed);
        assertThat(reservations.count()).isEqualTo(reserved + 1);
        assertThat(jdbc.queryForObject("SELECT state FROM backend.idempotency_keys WHERE idempotency_key = ?",
                String.class, key)).isEqualTo("DONE");
        ApiClient.Response batch = api().post("/api/v1/transfers/batch", payer, key(),
                Map.of("transfers", List.of(payment("1"), payment("2")), "atomic", true));
        assertThat(batch.status()).as(batch.toString()).isEqualTo(201);
        assertThat(claims.count()).isEqualTo(claimed);
        ApiClient.Response minted = api().post("/api/v1/faucet", payer, key(), Map.of("token", token, "amount", "1"));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        assertThat(claims.count()).as("any other POST claims before its handler runs").isEqualTo(claimed + 1);
    }

    @Test
    void a_payment_whose_key_another_request_holds_reserves_nothing_and_pays_nothing() {
        String key = key();
        ApiClient.Response first = api().post("/api/v1/transfers", payer, key, payment("555"));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        Address owner = Address.of(address(PAYER));
        BigInteger spent = limits.spentToday(owner, Address.of(token));
        BigInteger available = available(payer);
        // As while the first request runs: its claim, no response yet.
        jdbc.update("UPDATE backend.idempotency_keys SET state = 'IN_FLIGHT', status = NULL, content_type = NULL,"
                + " body = NULL, completed_at = NULL WHERE idempotency_key = ?", key);
        ApiClient.Response inFlight = api().post("/api/v1/transfers", payer, key, payment("555"));
        assertThat(inFlight.status()).as(inFlight.toString()).isEqualTo(409);
        assertThat(inFlight.code()).isEqualTo("IDEMPOTENCY_REQUEST_IN_FLIGHT");
        ApiClient.Response reused = api().post("/api/v1/transfers", payer, key, payment("556"));
        assertThat(reused.status()).as(reused.toString()).isEqualTo(422);
        assertThat(reused.code()).isEqualTo("IDEMPOTENCY_KEY_REUSED");
        ApiClient.Response reusedBatch = api().post("/api/v1/transfers/batch", payer, key,
                Map.of("transfers", List.of(payment("1"), payment("2")), "atomic", false));
        assertThat(reusedBatch.status()).as(reusedBatch.toString()).isEqualTo(422);
        assertThat(limits.spentToday(owner, Address.of(token))).as("nothing reserved").isEqualTo(spent);
        assertThat(available(payer)).as("nothing paid").isEqualTo(available);
    }

    @Test
    void a_refusal_before_any_write_is_stored_as_the_keys_first_answer_and_replayed() {
        String key = key();
        Map<String, Object> selfPayment = Map.of("to", address(PAYER), "token", token, "amount", "5");
        ApiClient.Response refused = api().post("/api/v1/transfers", payer, key, selfPayment);
        assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
        assertThat(refused.code()).isEqualTo("VALIDATION_FAILED");
        ApiClient.Response replay = api().post("/api/v1/transfers", payer, key, selfPayment);
        assertThat(replay.status()).isEqualTo(400);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json()).isEqualTo(refused.json());
        ApiClient.Response other = api().post("/api/v1/transfers", payer, key, payment("5"));
        assertThat(other.status()).isEqualTo(422);
        assertThat(other.code()).isEqualTo("IDEMPOTENCY_KEY_REUSED");
    }

    @Test
    void parallel_replays_of_one_key_make_exactly_one_transfer() throws Exception {
        BigInteger before = available(payer);
        String key = key();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ApiClient.Response>> responses = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                Callable<ApiClient.Response> call = () -> api().post("/api/v1/transfers", payer, key, payment("777"));
                responses.add(pool.submit(call));
            }
            String id = null;
            for (Future<ApiClient.Response> future : responses) {
                ApiClient.Response response = future.get();
                assertThat(response.status()).as(response.toString()).isIn(201, 409);
                if (response.status() == 201) {
                    String seen = response.json().path("id").asString();
                    assertThat(id == null || id.equals(seen)).isTrue();
                    id = seen;
                } else {
                    assertThat(response.code()).isEqualTo("IDEMPOTENCY_REQUEST_IN_FLIGHT");
                }
            }
            assertThat(id).isNotNull();
        } finally {
            pool.shutdownNow();
        }
        assertThat(before.subtract(available(payer))).isEqualTo(BigInteger.valueOf(777));
    }

    @Test
    void every_malformed_input_is_a_4xx_problem_never_a_5xx() {
        String[] bodies = {"{", "[]", "null", "\"text\"", "{\"to\":1}", "{\"amount\":[1]}",
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"1\",\"extra\":true}".formatted(address(PAYEE), token),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"-1\"}".formatted(address(PAYEE), token),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"1e18\"}".formatted(address(PAYEE), token),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"%s\"}".formatted(address(PAYEE), token, "9".repeat(100)),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"1\",\"reference\":\"a\\u0000b\"}".formatted(address(PAYEE), token),
                "{\"to\":\"0xnothex\",\"token\":\"%s\",\"amount\":\"1\"}".formatted(token),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"1\",\"id\":\"not-a-uuid\"}".formatted(address(PAYEE), token),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":\"1\"}".formatted(address(PAYER), token),
                "{\"to\":\"%s\",\"token\":\"%s\",\"amount\":99999999999999999999999999999999999999999}".formatted(address(PAYEE), token),
        };
        for (String body : bodies) {
            ApiClient.Response response = api().post("/api/v1/transfers", payer, key(), body);
            assertThat(response.status()).as(body + " -> " + response).isBetween(400, 499);
            assertThat(response.header("Content-Type")).as(body).startsWith("application/problem+json");
            assertThat(response.code()).as(body).isNotBlank();
        }
        ApiClient.Response unknownField = api().post("/api/v1/transfers", payer, key(), bodies[6]);
        assertThat(unknownField.code()).isEqualTo("UNKNOWN_FIELD");
        ApiClient.Response invalid = api().post("/api/v1/transfers", payer, key(), bodies[7]);
        assertThat(invalid.code()).isEqualTo("VALIDATION_FAILED");
        assertThat(invalid.json().path("errors").get(0).path("field").asString()).isEqualTo("amount");
        ApiClient.Response noKey = api().post("/api/v1/transfers", payer, null, payment("1"));
        assertThat(noKey.status()).isEqualTo(400);
        assertThat(noKey.code()).isEqualTo("IDEMPOTENCY_KEY_MISSING");
        ApiClient.Response oversize = api().post("/api/v1/transfers", payer, key(), "{\"reference\":\""
                + "x".repeat(1536 * 1024) + "\"}");
        assertThat(oversize.status()).isEqualTo(413);
        assertThat(oversize.code()).isEqualTo("BODY_TOO_LARGE");
        ApiClient.Response wrongType = api().send(api().request("/api/v1/transfers", payer)
                .header("Content-Type", "text/plain").header("Idempotency-Key", key())
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build());
        assertThat(wrongType.status()).isEqualTo(415);
        for (String path : new String[] {"/api/v1/transfers/not-an-id", "/api/v1/batches/abc", "/api/v1/withdrawals/x",
                "/api/v1/nothing-here", "/api/v1/audit?limit=100000", "/api/v1/deposits/instructions?token=0x1"}) {
            ApiClient.Response response = api().get(path, payer);
            assertThat(response.status()).as(path + " -> " + response).isBetween(400, 499);
        }
    }

    @Test
    void insufficient_funds_and_limits_are_422_with_their_code() {
        ApiClient.Response poor = api().post("/api/v1/transfers", payee, key(),
                Map.of("to", address(PAYER), "token", token, "amount", "999999999999"));
        assertThat(poor.status()).isEqualTo(422);
        assertThat(poor.code()).isEqualTo("INSUFFICIENT_FUNDS");
        ApiClient.Response overLimit = api().post("/api/v1/transfers", payer, key(), payment("10000000000000000000000001"));
        assertThat(overLimit.status()).isEqualTo(422);
        assertThat(overLimit.code()).isEqualTo("TRANSFER_LIMIT_EXCEEDED");
        ApiClient.Response unknownToken = api().post("/api/v1/transfers", payer, key(),
                Map.of("to", address(PAYEE), "token", address(PAYEE), "amount", "1"));
        assertThat(unknownToken.status()).isEqualTo(422);
        assertThat(unknownToken.code()).isEqualTo("UNKNOWN_TOKEN");
    }

    @Test
    void a_transfer_past_the_daily_limit_is_422_and_refusals_use_none_of_the_allowance() {
        String overDaily = new BigInteger(DAILY_LIMIT).add(BigInteger.ONE).toString();
        ApiClient.Response refused = api().post("/api/v1/transfers", payer, key(), payment(overDaily));
        assertThat(refused.status()).isEqualTo(422);
        assertThat(refused.code()).isEqualTo("DAILY_LIMIT_EXCEEDED");
        String withinDaily = new BigInteger(DAILY_LIMIT).subtract(BigInteger.valueOf(1_000_000)).toString();
        ApiClient.Response poor = api().post("/api/v1/transfers", payer, key(), payment(withinDaily));
        assertThat(poor.code()).isEqualTo("INSUFFICIENT_FUNDS");
        ApiClient.Response small = api().post("/api/v1/transfers", payer, key(), payment("3"));
        assertThat(small.status()).as(small.toString()).isEqualTo(201);
    }

    @Test
    void another_principals_transfer_and_withdrawal_are_404() {
        ApiClient.Response paid = api().post("/api/v1/transfers", payer, key(), payment("5"));
        String id = paid.json().path("id").asString();
        assertThat(api().get("/api/v1/transfers/" + id, payee).status()).isEqualTo(200);
        String stranger = login(STRANGER);
        ApiClient.Response hidden = api().get("/api/v1/transfers/" + id, stranger);
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.code()).isEqualTo("NOT_FOUND");
        ApiClient.Response withdrawal = api().post("/api/v1/withdrawals", payer, key(), Map.of("token", token, "amount", "3"));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
        assertThat(api().get("/api/v1/withdrawals/" + withdrawal.json().path("id").asString(), stranger).status())
                .isEqualTo(404);
        assertThat(api().get("/api/v1/withdrawals/" + withdrawal.json().path("id").asString(), payer).status())
                .isEqualTo(200);
        for (String cursor : new String[] {"x", "0", "-1", "99999999999999999999"}) {
            ApiClient.Response bad = api().get("/api/v1/audit?cursor=" + cursor, payer);
            assertThat(bad.status()).as(cursor).isEqualTo(400);
            assertThat(bad.code()).as("the same code as every other list").isEqualTo("INVALID_CURSOR");
        }
        JsonNode audit = api().get("/api/v1/audit", payer).json();
        assertThat(audit.path("items").valueStream().map(n -> n.path("action").asString()))
                .contains("WITHDRAWAL_REQUESTED");
        assertThat(api().get("/api/v1/audit", stranger).raw().body()).doesNotContain("WITHDRAWAL_REQUESTED");
    }

    @Test
    void an_atomic_batch_commits_all_or_none() {
        BigInteger before = available(payer);
        ApiClient.Response refused = api().post("/api/v1/transfers/batch", payer, key(), Map.of("atomic", true,
                "transfers", List.of(payment("10"), payment("100000000000"))));
        assertThat(refused.status()).as(refused.toString()).isEqualTo(200);
        assertThat(refused.json().path("results").get(0).path("code").asString()).isEqualTo("LINKED_TRANSFER_FAILED");
        assertThat(refused.json().path("results").get(1).path("code").asString()).isEqualTo("INSUFFICIENT_FUNDS");
        assertThat(available(payer)).isEqualTo(before);
        ApiClient.Response partial = api().post("/api/v1/transfers/batch", payer, key(), Map.of("atomic", false,
                "transfers", List.of(payment("10"), payment("100000000000"))));
        assertThat(partial.json().path("results").get(0).path("status").asString()).isEqualTo("COMMITTED");
        assertThat(partial.json().path("results").get(1).path("status").asString()).isEqualTo("REJECTED");
        assertThat(available(payer)).as("the next read, without X-Min-Sequence").isEqualTo(before.subtract(BigInteger.TEN));
    }

    /**
     * A batch that names one client id twice is refused field by field: atomic, nothing is paid
     * (400); not atomic, the repeat alone is refused. Before, an atomic batch with a repeated id
     * failed the ledger's whole commit group (500), and a concurrent client's payment with it.
     */
    @Test
    void a_batch_that_repeats_an_id_is_refused() {
        BigInteger before = available(payer);
        String id = UUID.randomUUID().toString();
        Map<String, Object> first = new java.util.HashMap<>(payment("3"));
        first.put("id", id);
        ApiClient.Response atomic = api().post("/api/v1/transfers/batch", payer, key(), Map.of("atomic", true,
                "transfers", List.of(first, first)));
        assertThat(atomic.status()).as(atomic.toString()).isEqualTo(400);
        assertThat(atomic.code()).isEqualTo("VALIDATION_FAILED");
        assertThat(atomic.json().path("errors").get(0).path("field").asString()).isEqualTo("transfers[1].id");
        assertThat(atomic.json().path("errors").get(0).path("code").asString()).isEqualTo("DUPLICATE_ID");
        assertThat(available(payer)).isEqualTo(before);

        ApiClient.Response partial = api().post("/api/v1/transfers/batch", payer, key(), Map.of("atomic", false,
                "transfers", List.of(first, first)));
        assertThat(partial.status()).as(partial.toString()).isEqualTo(200);
        assertThat(partial.json().path("results").get(0).path("status").asString()).isEqualTo("COMMITTED");
        assertThat(partial.json().path("results").get(1).path("status").asString()).isEqualTo("REJECTED");
        assertThat(partial.json().path("results").get(1).path("code").asString()).isEqualTo("VALIDATION_FAILED");
        assertThat(available(payer)).isEqualTo(before.subtract(BigInteger.valueOf(3)));
    }

    /**
     * Read-your-writes by default: a client that got a 201 sees its write in the very next read on
     * the same instance, without X-Min-Sequence (the balance rows trail the newest commit by up to
     * a checkpoint; the read waits for what this instance acknowledged). Many rounds, since one
     * read may by chance come after the checkpoint anyway; a request the per-principal rate limit
     * refuses (429, nothing done) is sent again.
     */
    @Test
    void a_write_is_in_the_next_read_without_a_header() {
        BigInteger payerExpected = available(payer);
        BigInteger payeeExpected = available(payee);
        for (int round = 0; round < 80; round++) {
            boolean batch = round % 3 == 2;
            String key = key();
            ApiClient.Response paid = notRateLimited(() -> batch
                    ? api().post("/api/v1/transfers/batch", payer, key, Map.of("transfers",
                            List.of(payment("1"), payment("2"))))
                    : api().post("/api/v1/transfers", payer, key, payment("1")));
            assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
            BigInteger sent = BigInteger.valueOf(batch ? 3 : 1);
            payerExpected = payerExpected.subtract(sent);
            payeeExpected = payeeExpected.add(sent);
            assertThat(available(notRateLimited(() -> api().get("/api/v1/accounts/me", payer))))
                    .as("the payer's read right after round %d's 201", round).isEqualTo(payerExpected);
            assertThat(available(notRateLimited(() -> api().get("/api/v1/accounts/me", payee))))
                    .as("the payee's read right after round %d's 201", round).isEqualTo(payeeExpected);
        }
    }

    private static ApiClient.Response notRateLimited(Supplier<ApiClient.Response> request) {
        ApiClient.Response[] last = new ApiClient.Response[1];
        awaitUntil("an answer other than 429", () -> (last[0] = request.get()).status() != 429);
        return last[0];
    }

    private BigInteger available(String accessToken) {
        return balanceIn(api().get("/api/v1/accounts/me", accessToken));
    }

    private BigInteger available(ApiClient.Response me) {
        assertThat(me.status()).as(me.toString()).isEqualTo(200);
        return balanceIn(me);
    }

    private BigInteger balanceIn(ApiClient.Response me) {
        for (JsonNode balance : me.json().path("balances")) {
            if (balance.path("token").asString().equals(token)) {
                return new BigInteger(balance.path("available").asString());
            }
        }
        return BigInteger.ZERO;
    }

    @Test
    void the_purge_deletes_keys_past_their_retention_in_chunks_and_keeps_the_rest() {
        String principal = "purge-test-" + UUID.randomUUID();
        int old = 2 * dev.agentescrow.backend.idempotency.IdempotencyStore.PURGE_CHUNK + 123;
        jdbc.update("INSERT INTO backend.idempotency_keys (principal, idempotency_key, request_hash, state, created_at)"
                + " SELECT ?, 'old-' || n, repeat('0', 64), 'IN_FLIGHT', now() - INTERVAL '26 hours' FROM generate_series(1, ?) n",
                principal, old);
        jdbc.update("INSERT INTO backend.idempotency_keys (principal, idempotency_key, request_hash, state, created_at)"
                + " VALUES (?, 'recent', repeat('0', 64), 'IN_FLIGHT', now() - INTERVAL '24 hours')", principal);

        int purged = idempotencyStore.purgeBefore(java.time.Instant.now().minus(
                dev.agentescrow.backend.idempotency.IdempotencyStore.RETENTION));

        assertThat(purged).as("at least this test's old keys").isGreaterThanOrEqualTo(old);
        assertThat(jdbc.queryForList("SELECT idempotency_key FROM backend.idempotency_keys WHERE principal = ?",
                String.class, principal)).containsExactly("recent");
    }
}
