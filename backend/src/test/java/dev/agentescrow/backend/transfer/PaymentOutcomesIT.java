package dev.agentescrow.backend.transfer;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.backend.testing.Funder;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Payments at the edges: a ledger write that outlives its request, tokens the service does not accept,
 * a withdrawal whose derived id another principal took first.
 */
class PaymentOutcomesIT extends BackendITSupport {
    @Autowired
    Batcher batcher;
    @Autowired
    AmountLimits limits;
    @Autowired
    DataSource dataSource;
    @Autowired
    JdbcTemplate jdbc;

    @Test
    void a_token_the_service_does_not_accept_is_refused_before_any_daily_reservation() {
        String token = CHAIN.deployment().token().checksummed();
        Funder funder = Funder.deposit(api(), CHAIN, new LedgerBalances(api(), batcher.reads(), token), 1_000_000);
        FreshAgents.FreshAgent payer = funder.fresh(500_000);
        FreshAgents.FreshAgent payee = FreshAgents.signIn(api());
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            items.add(Map.of("to", payee.address(), "token", FreshAgents.signIn(api()).address(), "amount", "1"));
        }
        items.add(Map.of("to", payee.address(), "token", token, "amount", "10"));

        ApiClient.Response batch = api().post("/api/v1/transfers/batch", payer.accessToken(), key(),
                Map.of("transfers", items));
        assertThat(batch.status()).as(batch.toString()).isEqualTo(200);
        for (int i = 0; i < 50; i++) {
            assertThat(batch.json().path("results").get(i).path("code").asString()).isEqualTo("UNKNOWN_TOKEN");
        }
        assertThat(batch.json().path("results").get(50).path("status").asString()).isEqualTo("COMMITTED");
        ApiClient.Response single = api().post("/api/v1/transfers", payer.accessToken(), key(),
                Map.of("to", payee.address(), "token", payee.address(), "amount", "1"));
        assertThat(single.status()).as(single.toString()).isEqualTo(422);
        assertThat(single.code()).isEqualTo("UNKNOWN_TOKEN");
        ApiClient.Response atomic = api().post("/api/v1/transfers/batch", payer.accessToken(), key(),
                Map.of("atomic", true, "transfers", List.of(items.get(0), items.get(50))));
        assertThat(atomic.json().path("results").get(0).path("code").asString()).as(atomic.toString())
                .isEqualTo("UNKNOWN_TOKEN");
        assertThat(atomic.json().path("results").get(1).path("code").asString()).isEqualTo("LINKED_TRANSFER_FAILED");

        // one row per token the payer really sent (a row per made-up token would let one request
        // write a thousand rows, every day, for each principal)
        assertThat(jdbc.queryForList("SELECT token FROM backend.daily_amounts WHERE owner = ?", String.class,
                Address.of(payer.address()).hex())).containsExactly(Address.of(token).hex());
    }

    @Test
    void a_withdrawal_whose_id_another_principal_took_first_is_a_documented_conflict_and_moves_nothing() {
        String token = CHAIN.deployment().token().checksummed();
        Funder funder = Funder.deposit(api(), CHAIN, new LedgerBalances(api(), batcher.reads(), token), 1_000_000);
        FreshAgents.FreshAgent victim = funder.fresh(300_000);
        FreshAgents.FreshAgent attacker = funder.fresh(100);
        // the victim's next Idempotency-Key is guessable; its withdrawal's id derives from it
        String guessed = "withdraw-" + UUID.randomUUID();
        String squatted = DerivedIds.of("withdrawal", Address.of(victim.address()), guessed, 0).toUuid().toString();
        ApiClient.Response taken = api().post("/api/v1/transfers", attacker.accessToken(), key(),
                Map.of("id", squatted, "to", funder.agent().address(), "token", token, "amount", "1"));
        assertThat(taken.status()).as(taken.toString()).isEqualTo(201);

        ApiClient.Response withdrawal = api().post("/api/v1/withdrawals", victim.accessToken(), guessed,
                Map.of("token", token, "amount", "1000"));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(409);
        assertThat(withdrawal.code()).isEqualTo("TRANSFER_ID_CONFLICT");
        assertThat(new LedgerBalances(api(), batcher.reads(), token).available(victim.accessToken()))
                .isEqualTo(BigInteger.valueOf(300_000));
    }

    @Test
    void a_payment_that_commits_after_its_request_timed_out_keeps_its_daily_reservation() throws Exception {
        String token = CHAIN.deployment().token().checksummed();
        Funder funder = Funder.deposit(api(), CHAIN, new LedgerBalances(api(), batcher.reads(), token), 3_000_000);
        FreshAgents.FreshAgent payer = funder.fresh(1_000_000);
        FreshAgents.FreshAgent payee = FreshAgents.signIn(api());
        Address owner = Address.of(payer.address());
        assertThat(limits.spentToday(owner, Address.of(token))).isZero();

        String id = UUID.randomUUID().toString();
        String idempotencyKey = key();
        Map<String, Object> order = Map.of("id", id, "to", payee.address(), "token", token, "amount", "700000");
        ApiClient.Response timedOut;
        // The ledger's writer stalls on the transfers table for longer than the request waits (30 s).
        try (Connection stall = dataSource.getConnection()) {
            stall.setAutoCommit(false);
            try (Statement lock = stall.createStatement()) {
                lock.execute("SET LOCAL idle_in_transaction_session_timeout = 0");
                lock.execute("LOCK TABLE public.transfers IN EXCLUSIVE MODE");
            }
            CompletableFuture<ApiClient.Response> paying = CompletableFuture.supplyAsync(
                    () -> api().post("/api/v1/transfers", payer.accessToken(), idempotencyKey, order));
            timedOut = paying.get(90, TimeUnit.SECONDS);
            stall.rollback();
        }
        assertThat(timedOut.status()).as(timedOut.toString()).isEqualTo(503);

        awaitUntil("the timed-out payment committed", () ->
                api().get("/api/v1/transfers/" + id, payer.accessToken()).status() == 200);
        assertThat(limits.spentToday(owner, Address.of(token))).as("the committed payment counts against the day")
                .isEqualTo(new BigInteger("700000"));

        ApiClient.Response replay = api().post("/api/v1/transfers", payer.accessToken(), idempotencyKey, order);
        assertThat(replay.status()).as(replay.toString()).isEqualTo(201);
        assertThat(limits.spentToday(owner, Address.of(token))).as("counted once across the replay")
                .isEqualTo(new BigInteger("700000"));
    }
}
