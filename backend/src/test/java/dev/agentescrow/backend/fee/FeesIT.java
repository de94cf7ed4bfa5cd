package dev.agentescrow.backend.fee;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.transfer.DerivedIds;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.FreshAgents;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.net.http.HttpRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.JsonNode;

/**
 * Fees over real HTTP (issue 16): the admin endpoints' refusals (401, 403, validation codes,
 * conflicts); a platform fee and a protocol fee shown before the payer commits, refused above the
 * payer's maximum, taken from each payout (each floored on its own) into FEES and PROTOCOL_FEES and
 * stored with the payout; a distribution to two stakeholders by share under concurrent admin calls
 * that pays once, its report with exact figures (JSON and CSV); then a stakeholder withdraws, the
 * batch settles and the admin's verification reconciles the vault with the ledger. Every party is a
 * fresh key; the admin is the configured one. The rates are set by the admin for this class and
 * reset at its end (other tests keep the configured defaults: platform 100 bps, protocol 0).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FeesIT extends BackendITSupport {
    @Autowired
    Batcher batcher;
    @Autowired
    JdbcTemplate jdbc;

    private String token;
    private String admin;
    private FreshAgents.FreshAgent funder;

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        admin = login(ADMIN_ACCOUNT);
        funder = FreshAgents.signIn(api(), TestChain.fundedFreshKey());
        ApiClient.Response minted = api().post("/api/v1/faucet", funder.accessToken(), key(),
                Map.of("token", token, "amount", "10000000"));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        var vault = CHAIN.deployment().vault(CHAIN.client());
        var erc20 = CHAIN.deployment().token(CHAIN.client());
        var signer = CHAIN.client().signer(funder.key());
        erc20.approve(signer, vault.address(), Amount.of(10_000_000));
        vault.deposit(signer, Address.of(token), Amount.of(10_000_000));
        awaitUntil("the funder's deposit credited", () -> balances().available(funder.accessToken()).signum() > 0);
    }

    @AfterAll
    void resetRates() {
        api().delete("/api/v1/admin/fees/rates", admin);
        for (JsonNode s : api().get("/api/v1/admin/fees/stakeholders", admin).json().path("items")) {
            if (s.path("active").asBoolean()) {
                api().delete("/api/v1/admin/fees/stakeholders/" + s.path("id").asString(), admin);
            }
        }
    }

    @Test
    @Order(1)
    void the_admin_endpoints_refuse_the_unauthenticated_the_non_admin_and_invalid_input() {
        ApiClient api = api();
        FreshAgents.FreshAgent agent = FreshAgents.signIn(api);
        assertThat(api.get("/api/v1/admin/fees/stakeholders", null).status()).isEqualTo(401);
        assertThat(api.get("/api/v1/admin/fees/stakeholders", null).code()).isEqualTo("UNAUTHENTICATED");
        assertThat(api.get("/api/v1/fees", null).status()).isEqualTo(401);
        ApiClient.Response forbidden = api.get("/api/v1/admin/fees/stakeholders", agent.accessToken());
        assertThat(forbidden.status()).isEqualTo(403);
        assertThat(forbidden.code()).isEqualTo("FORBIDDEN");
        assertThat(api.post("/api/v1/admin/fees/distributions", agent.accessToken(), key(), "{}").status())
                .isEqualTo(403);
        assertThat(api.post("/api/v1/admin/fees/stakeholders", agent.accessToken(), key(),
                Map.of("account", agent.address(), "name", "me", "shares", 1)).status()).isEqualTo(403);
        assertThat(api.get("/api/v1/admin/fees/periods/1", agent.accessToken()).status()).isEqualTo(403);
        assertThat(put("/api/v1/admin/fees/rates", agent.accessToken(), Map.of("platformBps", 0, "protocolBps", 0))
                .status()).isEqualTo(403);
        // anyone signed in sees the rates in force
        JsonNode rates = api.get("/api/v1/fees", agent.accessToken()).json();
        assertThat(rates.path("platformBps").asInt()).isEqualTo(100);
        assertThat(rates.path("protocolBps").asInt()).isEqualTo(0);

        ApiClient.Response badAccount = api.post("/api/v1/admin/fees/stakeholders", admin, key(),
                Map.of("account", "0x1234", "name", "x", "shares", 1));
        assertThat(badAccount.status()).isEqualTo(400);
        assertThat(badAccount.code()).isEqualTo("VALIDATION_FAILED");
        assertThat(errors(badAccount)).containsExactly("account:INVALID_ADDRESS");
        ApiClient.Response badShares = api.post("/api/v1/admin/fees/stakeholders", admin, key(),
                Map.of("account", agent.address(), "shares", 0));
        assertThat(errors(badShares)).containsExactlyInAnyOrder("name:REQUIRED", "shares:OUT_OF_RANGE");
        ApiClient.Response formula = api.post("/api/v1/admin/fees/stakeholders", admin, key(),
                Map.of("account", agent.address(), "name", "=HYPERLINK(1)", "shares", 1_000_001));
        assertThat(errors(formula)).containsExactlyInAnyOrder("name:INVALID", "shares:OUT_OF_RANGE");
        ApiClient.Response noKey = api.post("/api/v1/admin/fees/stakeholders", admin, null,
                Map.of("account", agent.address(), "name", "x", "shares", 1));
        assertThat(noKey.status()).isEqualTo(400);
        assertThat(noKey.code()).isEqualTo("IDEMPOTENCY_KEY_MISSING");
        ApiClient.Response badRates = put("/api/v1/admin/fees/rates", admin, Map.of("platformBps", 1_001));
        assertThat(errors(badRates)).containsExactlyInAnyOrder("platformBps:OUT_OF_RANGE", "protocolBps:REQUIRED");

        String addKey = key();
        Map<String, Object> add = Map.of("account", agent.address(), "name", "validation", "shares", 3);
        ApiClient.Response added = api.post("/api/v1/admin/fees/stakeholders", admin, addKey, add);
        assertThat(added.status()).as(added.toString()).isEqualTo(201);
        String id = added.json().path("id").asString();
        assertThat(id).matches("sth_[0-9a-f]{32}");
        assertThat(added.json().path("account").asString()).isEqualTo(agent.address());
        ApiClient.Response replay = api.post("/api/v1/admin/fees/stakeholders", admin, addKey, add);
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(id);
        assertThat(api.post("/api/v1/admin/fees/stakeholders", admin, addKey,
                Map.of("account", agent.address(), "name", "other", "shares", 3)).code()).isEqualTo("IDEMPOTENCY_KEY_REUSED");
        ApiClient.Response twice = api.post("/api/v1/admin/fees/stakeholders", admin, key(), add);
        assertThat(twice.status()).isEqualTo(409);
        assertThat(twice.code()).isEqualTo("FEE_STAKEHOLDER_EXISTS");

        ApiClient.Response changed = patch("/api/v1/admin/fees/stakeholders/" + id, admin, Map.of("shares", 5));
        assertThat(changed.status()).as(changed.toString()).isEqualTo(200);
        assertThat(changed.json().path("shares").asLong()).isEqualTo(5);
        assertThat(changed.json().path("name").asString()).isEqualTo("validation");
        assertThat(patch("/api/v1/admin/fees/stakeholders/" + id, admin, Map.of()).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(patch("/api/v1/admin/fees/stakeholders/sth_" + "0".repeat(32), admin, Map.of("shares", 1)).status())
                .isEqualTo(404);
        assertThat(api.delete("/api/v1/admin/fees/stakeholders/nope", admin).status()).isEqualTo(404);
        ApiClient.Response removed = api.delete("/api/v1/admin/fees/stakeholders/" + id, admin);
        assertThat(removed.status()).isEqualTo(200);
        assertThat(removed.json().path("active").asBoolean()).isFalse();
        assertThat(patch("/api/v1/admin/fees/stakeholders/" + id, admin, Map.of("shares", 1)).code())
                .isEqualTo("FEE_STAKEHOLDER_REMOVED");

        assertThat(api.get("/api/v1/admin/fees/periods/0", admin).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api.get("/api/v1/admin/fees/periods/-1", admin).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api.get("/api/v1/admin/fees/periods/99999999999999999999", admin).code())
                .isEqualTo("VALIDATION_FAILED");
        assertThat(api.get("/api/v1/admin/fees/periods/1?format=xml", admin).code()).isEqualTo("VALIDATION_FAILED");
        assertThat(api.get("/api/v1/admin/fees/periods/999999", admin).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/admin/fees/periods?cursor=x", admin).code()).isEqualTo("VALIDATION_FAILED");
        deactivateEveryStakeholder();
        ApiClient.Response none = api.post("/api/v1/admin/fees/distributions", admin, key(), "{}");
        assertThat(none.status()).isEqualTo(422);
        assertThat(none.code()).isEqualTo("FEE_NO_STAKEHOLDERS");
    }

    @Test
    @Order(2)
    void fees_on_payouts_are_distributed_once_to_two_stakeholders_reported_and_reconciled_after_settlement()
            throws Exception {
        ApiClient api = api();
        ApiClient.Response set = put("/api/v1/admin/fees/rates", admin, Map.of("platformBps", 100, "protocolBps", 50));
        assertThat(set.status()).as(set.toString()).isEqualTo(200);
        assertThat(set.json().path("totalBps").asInt()).isEqualTo(150);

        // shown before the payer commits: each fee floored on its own, the rest to the payee
        JsonNode quote = api.get("/api/v1/escrows/quote?token=" + token + "&amount=10199", funder.accessToken()).json();
        assertThat(quote.path("feeBps").asInt()).isEqualTo(100);
        assertThat(quote.path("protocolFeeBps").asInt()).isEqualTo(50);
        assertThat(quote.path("totalFeeBps").asInt()).isEqualTo(150);
        assertThat(quote.path("platformFee").asString()).isEqualTo("101");
        assertThat(quote.path("protocolFee").asString()).isEqualTo("50");
        assertThat(quote.path("maxFee").asString()).isEqualTo("151");
        assertThat(quote.path("payeesReceiveAtLeast").asString()).isEqualTo("10048");

        // two stakeholders, 1 : 2; an earlier period's fees (of other tests) are distributed first
        deactivateEveryStakeholder();
        FreshAgents.FreshAgent first = FreshAgents.signIn(api);
        FreshAgents.FreshAgent second = FreshAgents.signIn(api);
        assertThat(api.post("/api/v1/admin/fees/stakeholders", admin, key(),
                Map.of("account", first.address(), "name", "first", "shares", 1)).status()).isEqualTo(201);
        assertThat(api.post("/api/v1/admin/fees/stakeholders", admin, key(),
                Map.of("account", second.address(), "name", "second, with a comma", "shares", 2)).status())
                .isEqualTo(201);
        ApiClient.Response clearing = api.post("/api/v1/admin/fees/distributions", admin, key(), "{}");
        assertThat(clearing.status()).as(clearing.toString()).isIn(201, 422);
        BigInteger firstBefore = balances().available(first.accessToken());
        BigInteger secondBefore = balances().available(second.accessToken());

        // an escrow of two payees; the payer's maximum must cover both fees
        FreshAgents.FreshAgent arbiter = FreshAgents.signIn(api);
        FreshAgents.FreshAgent payeeA = FreshAgents.signIn(api);
        FreshAgents.FreshAgent payeeB = FreshAgents.signIn(api);
        Map<String, Object> terms = new HashMap<>();
        terms.put("token", token);
        terms.put("payees", List.of(Map.of("address", payeeA.address(), "share", "10199"),
                Map.of("address", payeeB.address(), "share", "3333")));
        terms.put("deadline", Instant.now().plusSeconds(3600).toString());
        terms.put("arbiter", arbiter.address());
        terms.put("termsHash", "0x" + "16".repeat(32));
        terms.put("maxFeeBps", 100);
        ApiClient.Response tooMuch = api.post("/api/v1/escrows", funder.accessToken(), key(), terms);
        assertThat(tooMuch.status()).isEqualTo(422);
        assertThat(tooMuch.code()).isEqualTo("ESCROW_FEE_ABOVE_MAX");
        terms.put("maxFeeBps", 150);
        ApiClient.Response created = api.post("/api/v1/escrows", funder.accessToken(), key(), terms);
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        assertThat(created.json().path("feeBps").asInt()).isEqualTo(100);
        assertThat(created.json().path("protocolFeeBps").asInt()).isEqualTo(50);
        assertThat(created.json().path("feeSource").asString()).isEqualTo("ESCROW");
        String escrowId = created.json().path("id").asString();
        BigInteger feesBefore = balances().fees();
        BigInteger protocolBefore = protocolFees();
        for (FreshAgents.FreshAgent payee : List.of(payeeA, payeeB)) {
            ApiClient.Response accepted = api.post("/api/v1/escrows/" + escrowId + "/accept", payee.accessToken(), key(),
                    "{}");
            assertThat(accepted.status()).as(accepted.toString()).isEqualTo(200);
        }
        ApiClient.Response released = api.post("/api/v1/escrows/" + escrowId + "/release", funder.accessToken(), key(),
                "{}");
        assertThat(released.status()).as(released.toString()).isEqualTo(200);
        assertThat(released.json().path("feesPaid").asString()).isEqualTo("200");
        assertThat(balances().available(payeeA.accessToken())).isEqualTo(10_048);
        assertThat(balances().available(payeeB.accessToken())).isEqualTo(3_284);
        assertThat(balances().fees().subtract(feesBefore)).isEqualTo(101 + 33);
        assertThat(protocolFees().subtract(protocolBefore)).isEqualTo(50 + 16);
        // the fee each payout paid is stored with it: both parts, with the payee's index
        JsonNode detail = api.get("/api/v1/escrows/" + escrowId, funder.accessToken()).json();
        List<String> parts = new ArrayList<>();
        for (JsonNode entry : detail.path("history")) {
            for (JsonNode t : entry.path("transfers")) {
                if (!t.path("kind").asString().equals("FUND")) {
                    parts.add(t.path("kind").asString() + ":" + t.path("payeeIndex").asInt() + ":" + t.path("amount").asString());
                }
            }
        }
        assertThat(parts).containsExactlyInAnyOrder("PAYEE:0:10048", "FEE:0:101", "PROTOCOL_FEE:0:50",
                "PAYEE:1:3284", "FEE:1:33", "PROTOCOL_FEE:1:16");

        // concurrent distributions: one period, paid once
        int callers = 4;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        List<ApiClient.Response> answers = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<ApiClient.Response>> futures = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                String k = key();
                keys.add(k);
                Callable<ApiClient.Response> call = () -> {
                    start.await();
                    return api.post("/api/v1/admin/fees/distributions", admin, k, "{}");
                };
                futures.add(pool.submit(call));
            }
            start.countDown();
            for (Future<ApiClient.Response> f : futures) {
                answers.add(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        Set<Long> periods = new HashSet<>();
        String distributedKey = null;
        for (int i = 0; i < answers.size(); i++) {
            ApiClient.Response a = answers.get(i);
            if (a.status() == 201) {
                periods.add(a.json().path("period").path("number").asLong());
                distributedKey = keys.get(i);
            } else {
                assertThat(a.status()).as(a.toString()).isEqualTo(422);
                assertThat(a.code()).isEqualTo("FEE_NOTHING_TO_DISTRIBUTE");
            }
        }
        assertThat(periods).hasSize(1);
        long period = periods.iterator().next();
        JsonNode report = api.get("/api/v1/admin/fees/periods/" + period, admin).json();
        assertThat(report.path("period").path("state").asString()).isEqualTo("DISTRIBUTED");
        assertThat(report.path("period").path("trigger").asString()).isEqualTo("ADMIN");

        // the report's exact figures: collected by type, token and source, and each stakeholder's part
        Map<String, String> collected = new HashMap<>();
        for (JsonNode c : report.path("collected")) {
            collected.put(c.path("feeType").asString() + "/" + c.path("source").asString(),
                    c.path("amount").asString() + "/" + c.path("charges").asLong());
            assertThat(c.path("token").asString()).isEqualTo(token);
        }
        assertThat(collected).containsEntry("PLATFORM/ESCROW", "134/2").containsEntry("PROTOCOL/ESCROW", "66/2");
        Map<String, BigInteger> expectedFirst = new HashMap<>();
        Map<String, BigInteger> expectedSecond = new HashMap<>();
        BigInteger firstTotal = BigInteger.ZERO;
        BigInteger secondTotal = BigInteger.ZERO;
        for (JsonNode t : report.path("totals")) {
            BigInteger got = new BigInteger(t.path("collected").asString());
            BigInteger in = new BigInteger(t.path("carriedIn").asString());
            BigInteger pool3 = got.add(in);
            BigInteger a = pool3.divide(BigInteger.valueOf(3));
            BigInteger b = pool3.multiply(BigInteger.TWO).divide(BigInteger.valueOf(3));
            assertThat(t.path("distributed").asString()).isEqualTo(a.add(b).toString());
            assertThat(t.path("carriedOut").asString()).isEqualTo(pool3.subtract(a).subtract(b).toString());
            expectedFirst.put(t.path("feeType").asString(), a);
            expectedSecond.put(t.path("feeType").asString(), b);
            firstTotal = firstTotal.add(a);
            secondTotal = secondTotal.add(b);
        }
        assertThat(expectedFirst.keySet()).containsExactlyInAnyOrder("PLATFORM", "PROTOCOL");
        for (JsonNode r : report.path("received")) {
            String type = r.path("feeType").asString();
            boolean isFirst = r.path("account").asString().equals(first.address());
            assertThat(r.path("amount").asString()).as(r.toString())
                    .isEqualTo((isFirst ? expectedFirst : expectedSecond).get(type).toString());
            assertThat(r.path("ledgerSequence").asLong()).isPositive();
        }
        assertThat(balances().available(first.accessToken()).subtract(firstBefore)).isEqualTo(firstTotal);
        assertThat(balances().available(second.accessToken()).subtract(secondBefore)).isEqualTo(secondTotal);

        // a replayed call answers the first response; a later call has nothing to distribute
        ApiClient.Response replayed = api.post("/api/v1/admin/fees/distributions", admin, distributedKey, "{}");
        assertThat(replayed.status()).isEqualTo(201);
        assertThat(replayed.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(api.post("/api/v1/admin/fees/distributions", admin, key(), "{}").code())
                .isEqualTo("FEE_NOTHING_TO_DISTRIBUTE");
        assertThat(balances().available(second.accessToken()).subtract(secondBefore)).isEqualTo(secondTotal);

        // a crash after the ledger paid but before the period was marked: the next call pays it again, once
        assertThat(jdbc.update("UPDATE backend.fee_periods SET state = 'PLANNED', distributed_at = NULL WHERE number = ?",
                period)).isEqualTo(1);
        ApiClient.Response resumed = api.post("/api/v1/admin/fees/distributions", admin, key(), "{}");
        assertThat(resumed.status()).as(resumed.toString()).isEqualTo(201);
        assertThat(resumed.json().path("period").path("number").asLong()).isEqualTo(period);
        assertThat(resumed.json().path("period").path("state").asString()).isEqualTo("DISTRIBUTED");
        assertThat(balances().available(first.accessToken()).subtract(firstBefore)).isEqualTo(firstTotal);
        assertThat(balances().available(second.accessToken()).subtract(secondBefore)).isEqualTo(secondTotal);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.events WHERE type = 'fee.distributed'"
                + " AND object_id = ?", Integer.class, "fee-period:" + period)).isEqualTo(4);

        // CSV for people
        ApiClient.Response csv = api.send(api.request("/api/v1/admin/fees/periods/" + period, admin)
                .header("Accept", "text/csv").GET().build());
        assertThat(csv.status()).isEqualTo(200);
        assertThat(csv.header("Content-Type")).startsWith("text/csv");
        List<String> lines = csv.raw().body().lines().toList();
        assertThat(lines.getFirst()).isEqualTo(FeeReports.CSV_HEADER);
        assertThat(lines).contains(period + ",collected,PLATFORM," + token + ",ESCROW,,,,,134,2,,",
                period + ",collected,PROTOCOL," + token + ",ESCROW,,,,,66,2,,");
        assertThat(lines).anyMatch(l -> l.startsWith(period + ",received,PLATFORM," + token + ",,sth_")
                && l.contains(",\"second, with a comma\"," + second.address() + ",2,"
                + expectedSecond.get("PLATFORM") + ",,,"));
        assertThat(api.get("/api/v1/admin/fees/periods/" + period + "?format=csv", admin).raw().body())
                .isEqualTo(csv.raw().body());
        JsonNode listed = api.get("/api/v1/admin/fees/periods?limit=1", admin).json();
        assertThat(listed.path("items").get(0).path("number").asLong()).isEqualTo(period);

        // the stakeholder withdraws on chain like anyone; the batch settles and the vault reconciles
        ApiClient.Response withdrawal = api.post("/api/v1/withdrawals", second.accessToken(), key(),
                Map.of("token", token, "amount", secondTotal.toString()));
        assertThat(withdrawal.status()).as(withdrawal.toString()).isEqualTo(201);
        String withdrawalId = withdrawal.json().path("id").asString();
        awaitUntil("the stakeholder's withdrawal paid", () -> "PAID".equals(
                api.get("/api/v1/withdrawals/" + withdrawalId, second.accessToken()).json().path("state").asString()));
        assertThat(CHAIN.deployment().token(CHAIN.client()).balanceOf(Address.of(second.address())).baseUnits())
                .isEqualTo(secondTotal);
        awaitUntil("a clean verification", () -> {
            JsonNode verified = api.post("/api/v1/admin/verify", admin, key(), "{}").json();
            return verified.path("ok").asBoolean() && verified.path("reconciled").asBoolean();
        });
    }

    @Test
    @Order(3)
    void payment_ids_a_stakeholder_derives_and_squats_first_do_not_block_the_next_distribution() {
        // A stakeholder knows its id (its fee.distributed events carry it) and the next period's
        // number. It commits, from its own account, transfers under the ids derived from them for
        // its next payments (as payment ids were derived before the plan's secret). That must not stop the
        // distribution: the period is paid, to it as to everyone.
        ApiClient api = api();
        assertThat(put("/api/v1/admin/fees/rates", admin, Map.of("platformBps", 100, "protocolBps", 50)).status())
                .isEqualTo(200);
        deactivateEveryStakeholder();
        FreshAgents.FreshAgent squatter = FreshAgents.signIn(api);
        FreshAgents.FreshAgent bystander = FreshAgents.signIn(api);
        ApiClient.Response gift = api.post("/api/v1/transfers", funder.accessToken(), key(), Map.of("to",
                squatter.address(), "token", token, "amount", "10"));
        assertThat(gift.status()).as(gift.toString()).isEqualTo(201);
        ApiClient.Response added = api.post("/api/v1/admin/fees/stakeholders", admin, key(),
                Map.of("account", squatter.address(), "name", "squatter", "shares", 1));
        assertThat(added.status()).as(added.toString()).isEqualTo(201);
        String stakeholder = added.json().path("id").asString();
        ApiClient.Response clearing = api.post("/api/v1/admin/fees/distributions", admin, key(), "{}");
        assertThat(clearing.status()).as(clearing.toString()).isIn(201, 422);

        Long last = jdbc.queryForObject("SELECT COALESCE(max(number), 0) FROM backend.fee_periods", Long.class);
        for (long period = last + 1; period <= last + 3; period++) {
            for (FeeType type : FeeType.values()) {
                ApiClient.Response squat = api.post("/api/v1/transfers", squatter.accessToken(), key(), Map.of("to",
                        bystander.address(), "token", token, "amount", "1", "id",
                        DerivedIds.of("fee-payment", Address.of(token), period + ":" + stakeholder + ":" + type.name(), 0)
                                .toUuid().toString()));
                assertThat(squat.status()).as(squat.toString()).isEqualTo(201);
            }
        }
        BigInteger before = balances().available(squatter.accessToken());
        assertThat(before).isEqualTo(BigInteger.valueOf(4));

        // fees of one payout: 100 + 50 bps of 10,000
        FreshAgents.FreshAgent arbiter = FreshAgents.signIn(api);
        FreshAgents.FreshAgent payee = FreshAgents.signIn(api);
        Map<String, Object> terms = new HashMap<>();
        terms.put("token", token);
        terms.put("payees", List.of(Map.of("address", payee.address(), "share", "10000")));
        terms.put("deadline", Instant.now().plusSeconds(3600).toString());
        terms.put("arbiter", arbiter.address());
        terms.put("termsHash", "0x" + "17".repeat(32));
        terms.put("maxFeeBps", 150);
        ApiClient.Response created = api.post("/api/v1/escrows", funder.accessToken(), key(), terms);
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String escrowId = created.json().path("id").asString();
        assertThat(api.post("/api/v1/escrows/" + escrowId + "/accept", payee.accessToken(), key(), "{}").status())
                .isEqualTo(200);
        ApiClient.Response released = api.post("/api/v1/escrows/" + escrowId + "/release", funder.accessToken(), key(),
                "{}");
        assertThat(released.status()).as(released.toString()).isEqualTo(200);
        assertThat(released.json().path("feesPaid").asString()).isEqualTo("150");

        ApiClient.Response distributed = api.post("/api/v1/admin/fees/distributions", admin, key(), "{}");
        assertThat(distributed.status()).as(distributed.toString()).isEqualTo(201);
        assertThat(distributed.json().path("period").path("state").asString()).isEqualTo("DISTRIBUTED");
        assertThat(balances().available(squatter.accessToken()).subtract(before)).isGreaterThanOrEqualTo(
                BigInteger.valueOf(150));
        for (JsonNode r : distributed.json().path("received")) {
            assertThat(r.path("stakeholderId").asString()).isEqualTo(stakeholder);
            assertThat(r.path("ledgerSequence").asLong()).isPositive();
        }
    }

    // ------------------------------------------------------------------ helpers

    private void deactivateEveryStakeholder() {
        for (JsonNode s : api().get("/api/v1/admin/fees/stakeholders", admin).json().path("items")) {
            if (s.path("active").asBoolean()) {
                assertThat(api().delete("/api/v1/admin/fees/stakeholders/" + s.path("id").asString(), admin).status())
                        .isEqualTo(200);
            }
        }
    }

    private BigInteger protocolFees() {
        return balances().account(AccountKey.protocolFees(Address.of(token)));
    }

    private LedgerBalances balances() {
        return new LedgerBalances(api(), batcher.reads(), token);
    }

    private static List<String> errors(ApiClient.Response response) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : response.json().path("errors")) {
            out.add(e.path("field").asString() + ":" + e.path("code").asString());
        }
        return out;
    }

    private ApiClient.Response put(String path, String accessToken, Object body) {
        return withBody("PUT", path, accessToken, body);
    }

    private ApiClient.Response patch(String path, String accessToken, Object body) {
        return withBody("PATCH", path, accessToken, body);
    }

    private ApiClient.Response withBody(String method, String path, String accessToken, Object body) {
        return api().send(api().request(path, accessToken).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(ApiClient.JSON.writeValueAsString(body))).build());
    }
}
