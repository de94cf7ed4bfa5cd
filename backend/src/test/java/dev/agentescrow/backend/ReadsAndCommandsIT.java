package dev.agentescrow.backend;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.backend.idempotency.IdempotencyStore;
import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.backend.transfer.AmountLimits;
import dev.agentescrow.backend.transfer.Payments;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.JsonNode;

/**
 * Reads through the batcher's read API (balances, transfers and proofs, history, deposits, batches)
 * with read-your-writes by sequence; client writes through the agents' command layer, which debits
 * only the caller; durable per-day limits shared by every instance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadsAndCommandsIT extends BackendITSupport {
    private static final int PAYER = 4;
    private static final int PAYEE = 5;
    private static final int STRANGER = 6;
    private static final long FUNDED = 50_000_000;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    LedgerGateway ledgerGateway;
    @Autowired
    BackendProperties properties;
    @Autowired
    IdempotencyStore idempotencyStore;
    @Autowired
    dev.agentescrow.backend.token.TokenCatalog tokenCatalog;

    private String payer;
    private String payee;
    private String stranger;
    private String token;
    private String depositTx;

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        payer = login(PAYER);
        payee = login(PAYEE);
        stranger = login(STRANGER);
        var vault = CHAIN.deployment().vault(CHAIN.client());
        var erc20 = CHAIN.deployment().token(CHAIN.client());
        // Minted by the service's faucet, the one signer of the token owner's key while the service runs.
        assertThat(api().post("/api/v1/faucet", payer, key(), Map.of("token", token, "amount", Long.toString(FUNDED)))
                .status()).isEqualTo(201);
        erc20.approve(CHAIN.account(PAYER), vault.address(), Amount.of(FUNDED));
        depositTx = vault.deposit(CHAIN.account(PAYER), Address.of(token), Amount.of(FUNDED)).txHash().value();
        awaitUntil("the payer's deposit credited", () -> available(payer, 0).signum() > 0);
    }

    private Map<String, Object> payment(String to, String amount) {
        return Map.of("to", to, "token", token, "amount", amount);
    }

    private BigInteger available(String accessToken, long minSequence) {
        ApiClient.Response me = api().get("/api/v1/accounts/me?minSequence=" + minSequence, accessToken);
        assertThat(me.status()).as(me.toString()).isEqualTo(200);
        for (JsonNode balance : me.json().path("balances")) {
            if (balance.path("token").asString().equals(token)) {
                return new BigInteger(balance.path("available").asString());
            }
        }
        return BigInteger.ZERO;
    }

    @Test
    void a_payment_answers_its_sequence_and_time_and_a_read_at_that_sequence_includes_it() {
        BigInteger before = available(payee, 0);
        ApiClient.Response paid = api().post("/api/v1/transfers", payer, key(), payment(address(PAYEE), "1234"));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        long sequence = paid.json().path("sequence").asLong();
        assertThat(sequence).isPositive();
        assertThat(Instant.parse(paid.json().path("committedAt").asString())).isBefore(Instant.now().plusSeconds(5));
        assertThat(paid.json().path("from").asString()).isEqualTo(address(PAYER));

        var request = api().request("/api/v1/accounts/me", payee).header("X-Min-Sequence", Long.toString(sequence))
                .GET().build();
        ApiClient.Response me = api().send(request);
        assertThat(me.json().path("sequence").asLong()).isGreaterThanOrEqualTo(sequence);
        assertThat(new BigInteger(me.json().path("balances").get(0).path("available").asString()))
                .isEqualTo(before.add(BigInteger.valueOf(1234)));

        String id = paid.json().path("id").asString();
        ApiClient.Response read = api().get("/api/v1/transfers/" + id + "?minSequence=" + sequence, payee);
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.json().path("sequence").asLong()).isEqualTo(sequence);
        assertThat(read.json().path("status").asString()).isIn("COMMITTED", "BATCHED", "SETTLED");
        assertThat(api().get("/api/v1/transfers/" + id, stranger).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/transfers/not-a-uuid", payer).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/transfers/" + id.replace("-", ""), payee).json().path("id").asString())
                .as("a hex id names the same transfer").isEqualTo(id);

        ApiClient.Response invalid = api().get("/api/v1/accounts/me?minSequence=-1", payee);
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.code()).isEqualTo("VALIDATION_FAILED");
        ApiClient.Response ahead = api().get("/api/v1/accounts/me?minSequence=999999999999", payee);
        assertThat(ahead.status()).isEqualTo(503);
        assertThat(ahead.code()).isEqualTo("NOT_YET_VISIBLE");
        assertThat(ahead.header("Retry-After")).isEqualTo("1");
    }

    @Test
    void attack_a_client_cannot_debit_another_account() {
        BigInteger victim = available(payer, 0);
        Map<String, Object> named = new LinkedHashMap<>(payment(address(STRANGER), "10"));
        named.put("from", address(PAYER));
        ApiClient.Response single = api().post("/api/v1/transfers", stranger, key(), named);
        assertThat(single.status()).isEqualTo(400);
        assertThat(single.code()).isEqualTo("UNKNOWN_FIELD");
        ApiClient.Response batch = api().post("/api/v1/transfers/batch", stranger, key(),
                Map.of("transfers", List.of(named)));
        assertThat(batch.status()).isEqualTo(400);
        // Without a payer field, every write debits the signed-in principal alone, who holds nothing.
        ApiClient.Response own = api().post("/api/v1/transfers", stranger, key(), payment(address(STRANGER + 1), "10"));
        assertThat(own.code()).isEqualTo("INSUFFICIENT_FUNDS");
        ApiClient.Response items = api().post("/api/v1/transfers/batch", stranger, key(),
                Map.of("transfers", List.of(payment(address(PAYEE), "1"), payment(address(PAYER), "1"))));
        assertThat(items.json().path("results").valueStream().map(r -> r.path("code").asString()))
                .containsOnly("INSUFFICIENT_FUNDS");
        ApiClient.Response withdrawal = api().post("/api/v1/withdrawals", stranger, key(),
                Map.of("token", token, "amount", "1"));
        assertThat(withdrawal.code()).isEqualTo("INSUFFICIENT_FUNDS");
        assertThat(available(payer, 0)).isEqualTo(victim);
    }

    @Test
    void history_pages_never_repeat_nor_skip_while_transfers_commit() throws Exception {
        for (int i = 0; i < 12; i++) {
            assertThat(api().post("/api/v1/transfers", payer, key(), payment(address(PAYEE), "7")).status())
                    .isEqualTo(201);
        }
        ExecutorService writer = Executors.newSingleThreadExecutor();
        List<String> paged = new ArrayList<>();
        long top;
        try {
            Future<?> writes = writer.submit(() -> {
                for (int i = 0; i < 15; i++) {
                    api().post("/api/v1/transfers", payer, key(), payment(address(PAYEE), "3"));
                }
            });
            ApiClient.Response first = api().get("/api/v1/accounts/me/transfers?limit=4", payee);
            assertThat(first.status()).as(first.toString()).isEqualTo(200);
            top = first.json().path("items").get(0).path("sequence").asLong();
            JsonNode page = first.json();
            while (true) {
                page.path("items").forEach(item -> paged.add(item.path("id").asString()));
                String cursor = page.path("nextCursor").asString(null);
                if (cursor == null) {
                    break;
                }
                ApiClient.Response next = api().get("/api/v1/accounts/me/transfers?limit=4&cursor=" + cursor, payee);
                assertThat(next.status()).as(next.toString()).isEqualTo(200);
                page = next.json();
            }
            writes.get(60, TimeUnit.SECONDS);
        } finally {
            writer.shutdownNow();
        }
        assertThat(new HashSet<>(paged)).as("no item twice").hasSize(paged.size());
        List<String> all = new ArrayList<>();
        long previous = Long.MAX_VALUE;
        for (JsonNode item : api().get("/api/v1/accounts/me/transfers?limit=500", payee).json().path("items")) {
            long sequence = item.path("sequence").asLong();
            assertThat(sequence).as("newest first").isLessThan(previous);
            assertThat(item.path("status").asString()).isIn("COMMITTED", "BATCHED", "SETTLED", "QUARANTINED");
            previous = sequence;
            if (sequence <= top) {
                all.add(item.path("id").asString());
            }
        }
        assertThat(paged).as("every transfer up to the first page's newest, once, in order").isEqualTo(all);
        assertThat(paged.size()).isGreaterThanOrEqualTo(12);

        ApiClient.Response filtered = api().get("/api/v1/accounts/me/transfers?limit=500&token=" + address(STRANGER), payee);
        assertThat(filtered.json().path("items").size()).isZero();
        Set<String> strangers = new HashSet<>();
        api().get("/api/v1/accounts/me/transfers?limit=500", stranger).json().path("items")
                .forEach(item -> strangers.add(item.path("id").asString()));
        assertThat(strangers).as("another principal's transfers are not in its history").doesNotContainAnyElementsOf(paged);
    }

    @Test
    void history_validates_its_parameters() {
        for (String query : new String[] {"limit=0", "limit=501", "limit=x", "token=0x12"}) {
            ApiClient.Response bad = api().get("/api/v1/accounts/me/transfers?" + query, payer);
            assertThat(bad.status()).as(query).isEqualTo(400);
            assertThat(bad.code()).as(query).isEqualTo("VALIDATION_FAILED");
        }
        for (String cursor : new String[] {"x", "aDE6MA", "%00", "aDE6LTE", "a".repeat(100)}) {
            ApiClient.Response bad = api().get("/api/v1/accounts/me/transfers?cursor=" + cursor, payer);
            assertThat(bad.status()).as(cursor).isEqualTo(400);
            assertThat(bad.code()).as(cursor).isEqualTo("INVALID_CURSOR");
        }
        ApiClient.Response anonymous = api().get("/api/v1/accounts/me/transfers", null);
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(anonymous.code()).isEqualTo("UNAUTHENTICATED");
    }

    @Test
    void deposits_are_listed_from_the_indexers_bookings_and_only_the_callers() {
        awaitUntil("the deposit listed as CREDITED", () -> api().get("/api/v1/deposits", payer).json().path("items")
                .valueStream().anyMatch(item -> item.path("txHash").asString().equals(depositTx)
                        && item.path("state").asString().equals("CREDITED")));
        ApiClient.Response mine = api().get("/api/v1/deposits", payer);
        assertThat(mine.status()).isEqualTo(200);
        JsonNode deposit = mine.json().path("items").valueStream()
                .filter(item -> item.path("txHash").asString().equals(depositTx)).findFirst().orElseThrow();
        assertThat(mine.json().path("items").valueStream().filter(item -> item.path("txHash").asString().equals(depositTx)))
                .as("listed once").hasSize(1);
        assertThat(deposit.path("amount").asString()).isEqualTo(Long.toString(FUNDED));
        assertThat(deposit.path("token").asString()).isEqualTo(token);
        assertThat(deposit.path("confirmations").asLong()).isPositive();
        assertThat(api().get("/api/v1/deposits", stranger).raw().body()).doesNotContain(depositTx);
        assertThat(api().get("/api/v1/deposits", null).status()).isEqualTo(401);
    }

    @Test
    void deposits_and_withdrawals_are_paged_newest_first_with_an_opaque_cursor_each_once() {
        org.web3j.crypto.Credentials key = TestChain.fundedFreshKey();
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api(), key);
        assertThat(api().post("/api/v1/faucet", agent.accessToken(), key(), Map.of("token", token, "amount", "35"))
                .status()).isEqualTo(201);
        var signer = CHAIN.client().signer(key);
        CHAIN.deployment().token(CHAIN.client()).approve(signer, CHAIN.deployment().vault(), Amount.of(35));
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.addFirst(CHAIN.deployment().vault(CHAIN.client()).deposit(signer, Address.of(token), Amount.of(7))
                    .txHash().value());
        }
        awaitUntil("five deposits credited", () -> api().get("/api/v1/deposits?limit=500", agent.accessToken()).json()
                .path("items").valueStream().filter(item -> item.path("state").asString().equals("CREDITED")).count() == 5);
        ApiClient.Response whole = api().get("/api/v1/deposits?limit=500", agent.accessToken());
        assertThat(whole.json().path("nextCursor").isMissingNode()).isTrue();
        assertThat(whole.json().path("items").valueStream().map(item -> item.path("txHash").asString()).toList())
                .as("newest first").isEqualTo(sent);

        List<String> paged = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String cursor = null;
        do {
            ApiClient.Response page = api().get("/api/v1/deposits?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
                    agent.accessToken());
            assertThat(page.status()).as(page.toString()).isEqualTo(200);
            page.json().path("items").forEach(item -> paged.add(item.path("txHash").asString()));
            sizes.add(page.json().path("items").size());
            cursor = page.json().path("nextCursor").isMissingNode() ? null : page.json().path("nextCursor").asString();
            if (cursor != null) {
                ApiClient.Response stranger = api().get("/api/v1/deposits?cursor=" + cursor, this.stranger);
                assertThat(stranger.status()).isEqualTo(200);
                assertThat(stranger.raw().body()).as("a cursor shows only the caller's deposits").doesNotContain(sent);
            }
        } while (cursor != null && sizes.size() < 10);
        assertThat(paged).isEqualTo(sent);
        assertThat(sizes).containsExactly(2, 2, 1);

        for (String query : new String[] {"limit=0", "limit=501", "limit=x", "limit=-1", "limit=99999999999"}) {
            ApiClient.Response bad = api().get("/api/v1/deposits?" + query, agent.accessToken());
            assertThat(bad.status()).as(query).isEqualTo(400);
            assertThat(bad.code()).as(query).isEqualTo("VALIDATION_FAILED");
        }
        for (String bad : new String[] {"x", "aDE6MA", "%00", "ZDE6MTI6Mw", "a".repeat(300)}) {
            ApiClient.Response refused = api().get("/api/v1/deposits?cursor=" + bad, agent.accessToken());
            assertThat(refused.status()).as(bad).isEqualTo(400);
            assertThat(refused.code()).as(bad).isEqualTo("INVALID_CURSOR");
        }

        // Withdrawals: each item costs ledger reads (and a chain call once settled), so the list is paged too.
        List<String> withdrawn = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ApiClient.Response w = api().post("/api/v1/withdrawals", agent.accessToken(), key(),
                    Map.of("token", token, "amount", "1"));
            assertThat(w.status()).as(w.toString()).isEqualTo(201);
            withdrawn.addFirst(w.json().path("id").asString());
        }
        ApiClient.Response firstPage = api().get("/api/v1/withdrawals?limit=2", agent.accessToken());
        assertThat(firstPage.json().path("items").valueStream().map(w -> w.path("id").asString()).toList())
                .isEqualTo(withdrawn.subList(0, 2));
        ApiClient.Response lastPage = api().get("/api/v1/withdrawals?limit=2&cursor="
                + firstPage.json().path("nextCursor").asString(), agent.accessToken());
        assertThat(lastPage.json().path("items").valueStream().map(w -> w.path("id").asString()).toList())
                .isEqualTo(withdrawn.subList(2, 3));
        assertThat(lastPage.json().path("nextCursor").isMissingNode()).isTrue();
        assertThat(api().get("/api/v1/withdrawals?limit=101", agent.accessToken()).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api().get("/api/v1/withdrawals?cursor=" + firstPage.json().path("nextCursor").asString().substring(1),
                agent.accessToken()).code()).isEqualTo("INVALID_CURSOR");
        assertThat(api().get("/api/v1/withdrawals", this.stranger).raw().body()).doesNotContain(withdrawn);
    }

    @Test
    void a_withdrawal_answers_its_sequence_replays_and_its_batch_shows_gas_per_movement() {
        String key = key();
        ApiClient.Response withdrawal = api().post("/api/v1/withdrawals", payer, key, Map.of("token", token, "amount", "500"));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
        long sequence = withdrawal.json().path("sequence").asLong();
        assertThat(sequence).isPositive();
        ApiClient.Response replay = api().post("/api/v1/withdrawals", payer, key, Map.of("token", token, "amount", "500"));
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.json().path("id").asString()).isEqualTo(withdrawal.json().path("id").asString());
        assertThat(replay.json().path("sequence").asLong()).isEqualTo(sequence);
        String id = withdrawal.json().path("id").asString();
        assertThat(api().get("/api/v1/withdrawals/" + id, stranger).status()).isEqualTo(404);
        awaitUntil("the withdrawal paid", () -> api().get("/api/v1/withdrawals/" + id + "?minSequence=" + sequence, payer)
                .json().path("state").asString().equals("PAID"));
        JsonNode paid = api().get("/api/v1/withdrawals/" + id, payer).json();
        assertThat(paid.path("txHash").asString()).startsWith("0x");
        // History items carry their settlement status: the paid withdrawal is SETTLED in its batch.
        JsonNode item = api().get("/api/v1/accounts/me/transfers?limit=500", payer).json().path("items").valueStream()
                .filter(i -> i.path("id").asString().equals(id)).findFirst().orElseThrow();
        assertThat(item.path("status").asString()).isEqualTo("SETTLED");
        assertThat(item.path("batchId").asLong()).isEqualTo(paid.path("batchId").asLong());
        ApiClient.Response fresh = api().post("/api/v1/transfers", payer, key(),
                Map.of("to", address(PAYEE), "token", token, "amount", "1"));
        assertThat(fresh.status()).as(fresh.toString()).isEqualTo(201);
        JsonNode newest = api().get("/api/v1/accounts/me/transfers?limit=1", payer).json().path("items").get(0);
        assertThat(newest.path("id").asString()).isEqualTo(fresh.json().path("id").asString());
        assertThat(newest.path("status").asString()).isIn("COMMITTED", "BATCHED");
        ApiClient.Response batch = api().get("/api/v1/batches/" + paid.path("batchId").asLong(), payer);
        assertThat(batch.status()).isEqualTo(200);
        JsonNode b = batch.json();
        assertThat(b.path("state").asString()).isEqualTo("CONFIRMED");
        assertThat(b.path("withdrawalCount").asInt()).isPositive();
        assertThat(b.path("txHash").asString()).isEqualTo(paid.path("txHash").asString());
        assertThat(b.path("gasPerTransfer").asLong()).isEqualTo(
                b.path("gasUsed").asLong() / (b.path("transferCount").asInt() + b.path("withdrawalCount").asInt()));
        ApiClient.Response list = api().get("/api/v1/batches?limit=2&before=" + (b.path("id").asLong() + 1), payer);
        assertThat(list.json().path("items").get(0).path("id").asLong()).isEqualTo(b.path("id").asLong());
        ApiClient.Response badBefore = api().get("/api/v1/batches?before=0", payer);
        assertThat(badBefore.status()).isEqualTo(400);
        assertThat(badBefore.code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api().get("/api/v1/batches/" + b.path("id").asLong(), null).status()).isEqualTo(401);
    }

    @Test
    void the_daily_limit_is_durable_and_shared_by_every_instance() throws Exception {
        Clock day = Clock.fixed(Instant.parse("2031-05-05T10:00:00Z"), ZoneOffset.UTC);
        AmountLimits one = new AmountLimits(properties, day, jdbc, idempotencyStore);
        AmountLimits two = new AmountLimits(properties, day, jdbc, idempotencyStore);
        Address owner = Address.of(address(STRANGER));
        Address tokenAddress = Address.of(token);
        BigInteger limit = new BigInteger(DAILY_LIMIT);
        BigInteger tenth = limit.divide(BigInteger.TEN);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<AmountLimits.Verdict>> verdicts = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                AmountLimits instance = i % 2 == 0 ? one : two;
                verdicts.add(pool.submit(() -> instance.reserve(owner, tokenAddress, tenth)));
            }
            int ok = 0;
            for (Future<AmountLimits.Verdict> verdict : verdicts) {
                ok += verdict.get(60, TimeUnit.SECONDS) == AmountLimits.Verdict.OK ? 1 : 0;
            }
            assertThat(ok).as("two instances racing share one allowance").isEqualTo(10);
        } finally {
            pool.shutdownNow();
        }
        assertThat(one.spentToday(owner, tokenAddress)).isEqualTo(limit);
        AmountLimits restarted = new AmountLimits(properties, day, jdbc, idempotencyStore);
        assertThat(restarted.reserve(owner, tokenAddress, BigInteger.ONE)).isEqualTo(AmountLimits.Verdict.DAILY_LIMIT_EXCEEDED);
        two.release(owner, tokenAddress, tenth, two.today());
        assertThat(restarted.reserve(owner, tokenAddress, tenth)).isEqualTo(AmountLimits.Verdict.OK);
        AmountLimits nextDay = new AmountLimits(properties, Clock.offset(day, java.time.Duration.ofDays(1)), jdbc, idempotencyStore);
        assertThat(nextDay.reserve(owner, tokenAddress, tenth)).isEqualTo(AmountLimits.Verdict.OK);
    }

    @Test
    void a_payment_reserved_before_midnight_and_refused_after_it_gives_back_to_the_day_it_counted_against() throws Exception {
        Instant beforeMidnight = Instant.parse("2031-06-06T23:59:59.999Z");
        Instant afterMidnight = beforeMidnight.plusMillis(2);
        // the payer's clock reads 23:59:59.999 once (the reservation), then after midnight (the give-back)
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        Clock crossing = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return reads.getAndIncrement() == 0 ? beforeMidnight : afterMidnight;
            }
        };
        Address owner = Address.of(addressOf(freshPrivateKey()));
        Address tokenAddress = Address.of(token);
        BigInteger tenth = new BigInteger(DAILY_LIMIT).divide(BigInteger.TEN);
        AmountLimits oldDay = new AmountLimits(properties, Clock.fixed(beforeMidnight, ZoneOffset.UTC), jdbc, idempotencyStore);
        AmountLimits newDay = new AmountLimits(properties, Clock.fixed(afterMidnight, ZoneOffset.UTC), jdbc, idempotencyStore);
        assertThat(newDay.reserve(owner, tokenAddress, tenth)).as("the new day's first payment").isEqualTo(AmountLimits.Verdict.OK);

        // a payment the ledger refuses (the payer holds nothing): reserved on the old day, given back after midnight
        Payments payments = new Payments(ledgerGateway, new AmountLimits(properties, crossing, jdbc, idempotencyStore),
                idempotencyStore, tokenCatalog, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        Payments.Order order = new Payments.Order(TransferId.of(new BigInteger(120, new java.security.SecureRandom())),
                Address.of(address(STRANGER)), tokenAddress, tenth, "crossing midnight");
        assertThat(payments.pay(owner, List.of(order), false).getFirst().committed()).isFalse();

        assertThat(oldDay.spentToday(owner, tokenAddress)).as("given back to the day it was reserved from").isZero();
        assertThat(newDay.spentToday(owner, tokenAddress)).as("the new day keeps its own payment").isEqualTo(tenth);
    }

    @Test
    void the_totals_of_days_before_yesterday_are_purged() {
        Address owner = Address.of(addressOf(freshPrivateKey()));
        Address tokenAddress = Address.of(token);
        Instant first = Instant.parse("1990-01-01T12:00:00Z");
        List<AmountLimits> days = new ArrayList<>();
        for (int d = 0; d < 3; d++) {
            AmountLimits day = new AmountLimits(properties, Clock.fixed(first.plus(java.time.Duration.ofDays(d)), ZoneOffset.UTC),
                    jdbc, idempotencyStore);
            assertThat(day.reserve(owner, tokenAddress, BigInteger.valueOf(d + 1))).isEqualTo(AmountLimits.Verdict.OK);
            days.add(day);
        }
        // on 1990-01-04, the hourly purge keeps yesterday (the 3rd) and deletes the 1st and the 2nd
        new AmountLimits(properties, Clock.fixed(first.plus(java.time.Duration.ofDays(3)), ZoneOffset.UTC), jdbc,
                idempotencyStore).purge();

        assertThat(days.get(0).spentToday(owner, tokenAddress)).isZero();
        assertThat(days.get(1).spentToday(owner, tokenAddress)).isZero();
        assertThat(days.get(2).spentToday(owner, tokenAddress)).isEqualTo(BigInteger.valueOf(3));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.daily_amounts WHERE owner = ?", Long.class, owner.hex()))
                .isEqualTo(1);
    }
}
