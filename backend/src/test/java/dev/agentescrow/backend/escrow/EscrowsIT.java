package dev.agentescrow.backend.escrow;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static dev.agentescrow.backend.escrow.EscrowCalls.actions;
import static dev.agentescrow.backend.escrow.EscrowCalls.ok;
import static dev.agentescrow.backend.escrow.EscrowCalls.refused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.LedgerBalances;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import tools.jackson.databind.JsonNode;

/**
 * Ledger escrows over real HTTP: every endpoint's success and refusals, 401 and 404, replays and
 * concurrent releases (one payout), and the end-to-end stories of issue 13 with the ledger's
 * balances (payer, payees, FEES, the escrow's own account) exact after each. Every party is a
 * fresh key signed in with SIWE, funded by a ledger transfer from a dev account that deposited
 * on chain, so that no test sees another's balances. No sleeps: deadlines are a few seconds
 * ahead and the tests poll the clock or the escrow's state.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EscrowsIT extends BackendITSupport {
    private static final int FUNDER = 14;
    private static final BigInteger FEE_BPS = BigInteger.valueOf(100);

    @Autowired
    Batcher batcher;

    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    private String token;
    private Agent funder;

    record Agent(String address, String accessToken) {
        Address addr() {
            return Address.of(address);
        }
    }

    @BeforeAll
    void fund() {
        token = CHAIN.deployment().token().checksummed();
        funder = new Agent(address(FUNDER), login(FUNDER));
        var vault = CHAIN.deployment().vault(CHAIN.client());
        var erc20 = CHAIN.deployment().token(CHAIN.client());
        // Minted by the service's faucet, the one signer of the token owner's key while the service runs.
        ApiClient.Response minted = api().post("/api/v1/faucet", funder.accessToken(), key(),
                Map.of("token", token, "amount", "500000000"));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        erc20.approve(CHAIN.account(FUNDER), vault.address(), Amount.of(500_000_000));
        vault.deposit(CHAIN.account(FUNDER), Address.of(token), Amount.of(500_000_000));
        awaitUntil("the funder's deposit credited", () -> available(funder).signum() > 0);
    }

    // ------------------------------------------------------------------ helpers

    private Agent agent() {
        try {
            Credentials key = Credentials.create(Keys.createEcKeyPair());
            return new Agent(Keys.toChecksumAddress(key.getAddress()), EscrowCalls.signIn(api(), key));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Agent funded(long amount) {
        Agent agent = agent();
        ApiClient.Response paid = api().post("/api/v1/transfers", funder.accessToken(), key(),
                Map.of("to", agent.address(), "token", token, "amount", Long.toString(amount)));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        return agent;
    }

    /** The agent's available balance, read with every ledger commit so far (X-Min-Sequence: the read is not behind). */
    private BigInteger available(Agent agent) {
        return balances().available(agent.accessToken());
    }

    private BigInteger fees() {
        return balances().fees();
    }

    private BigInteger escrowAccount(String id) {
        return balances().escrowAccount(id);
    }

    private LedgerBalances balances() {
        return new LedgerBalances(api(), batcher.reads(), token);
    }

    private static BigInteger big(long value) {
        return BigInteger.valueOf(value);
    }

    private static BigInteger net(long gross) {
        return big(gross).subtract(fee(gross));
    }

    private static BigInteger fee(long gross) {
        return big(gross).multiply(FEE_BPS).divide(big(10_000));
    }

    private Map<String, Object> terms(Agent arbiter, Instant deadline, Object... payeesAndShares) {
        List<Map<String, String>> payees = new ArrayList<>();
        for (int i = 0; i < payeesAndShares.length; i += 2) {
            payees.add(Map.of("address", ((Agent) payeesAndShares[i]).address(),
                    "share", Long.toString((Long) payeesAndShares[i + 1])));
        }
        Map<String, Object> body = new HashMap<>();
        body.put("token", token);
        body.put("payees", payees);
        body.put("deadline", deadline.toString());
        body.put("arbiter", arbiter.address());
        body.put("maxFeeBps", 100);
        body.put("termsHash", "0x" + "ab".repeat(32));
        return body;
    }

    private ApiClient.Response create(Agent payer, Map<String, Object> body) {
        return api().post("/api/v1/escrows", payer.accessToken(), key(), body);
    }

    private String created(Agent payer, Map<String, Object> body) {
        ApiClient.Response response = create(payer, body);
        assertThat(response.status()).as(response.toString()).isEqualTo(201);
        assertThat(response.json().path("state").asString()).isEqualTo("OPEN");
        return response.json().path("id").asString();
    }

    private ApiClient.Response action(Agent who, String id, String action, Object body) {
        return EscrowCalls.action(api(), who.accessToken(), id, action, body);
    }

    private JsonNode get(Agent who, String id) {
        return EscrowCalls.get(api(), who.accessToken(), id);
    }

    private static void awaitClockPast(Instant instant) {
        awaitUntil("the clock passes " + instant, () -> Instant.now().isAfter(instant.plusMillis(200)));
    }

    private static Map<String, Object> release(int index, long amount) {
        return Map.of("releases", List.of(Map.of("index", index, "amount", Long.toString(amount))));
    }

    /** The escrow's transfer salt, as the service stored it (never shown by the API). */
    private String salt(String id) {
        return jdbc.queryForObject("SELECT transfer_salt FROM backend.escrows WHERE id = ?", String.class, id);
    }

    /**
     * Commits in the ledger what a release of {@code gross} to payee 0 creating version {@code version}
     * pays (the payee's net and the fee, one linked group, under the ids the service derives with
     * {@code salt}), as if the service's commit of that release was lost.
     */
    private void lostRelease(String id, Agent payee, long gross, int version, String salt) {
        Address tokenAddress = Address.of(token);
        AccountKey escrow = AccountKey.escrowFunds(id, tokenAddress);
        assertThat(batcher.ledger().submit(List.of(
                dev.agentescrow.batcher.ledger.TransferRequest.single(
                        EscrowIds.transfer(id, salt, EscrowAction.RELEASED, "payee:0", version), escrow,
                        AccountKey.user(payee.addr(), tokenAddress), Amount.of(net(gross)))
                        .withReference("escrow:" + id).linkedToNext(),
                dev.agentescrow.batcher.ledger.TransferRequest.single(
                        EscrowIds.transfer(id, salt, EscrowAction.RELEASED, "fee:0", version), escrow,
                        AccountKey.fees(tokenAddress), Amount.of(fee(gross))).withReference("escrow:" + id))))
                .allMatch(result -> result.committed());
    }

    // ------------------------------------------------------------------ end to end

    @Test
    void released_in_part_twice_with_a_fee_then_the_rest_refunded_after_the_deadline() {
        Agent payer = funded(1_000_000);
        Agent payee = agent();
        Agent evaluator = agent();
        Agent arbiter = agent();
        BigInteger feesBefore = fees();
        Instant deadline = Instant.now().plusSeconds(10);
        Map<String, Object> body = terms(arbiter, deadline, payee, 600_000L);
        body.put("evaluator", evaluator.address());
        body.put("graceSeconds", 3600);
        String id = created(payer, body);
        assertThat(available(payer)).isEqualTo(big(400_000));
        assertThat(escrowAccount(id)).isEqualTo(big(600_000));

        refused(action(payer, id, "release", Map.of()), 409, "ESCROW_INVALID_STATE");
        JsonNode accepted = ok(action(payee, id, "accept", Map.of()));
        assertThat(accepted.path("state").asString()).isEqualTo("FUNDED");
        refused(action(payee, id, "release", release(0, 1)), 403, "ESCROW_ROLE_REQUIRED");
        refused(action(payer, id, "release", release(0, 600_001)), 422, "ESCROW_AMOUNT_EXCEEDS_SHARE");
        refused(action(payer, id, "release", release(1, 1)), 422, "ESCROW_UNKNOWN_PAYEE");

        JsonNode first = ok(action(payer, id, "release", release(0, 100_000)));
        assertThat(first.path("state").asString()).isEqualTo("FUNDED");
        assertThat(first.path("held").asString()).isEqualTo("500000");
        JsonNode second = ok(action(evaluator, id, "release", release(0, 200_000)));
        assertThat(second.path("held").asString()).isEqualTo("300000");
        assertThat(second.path("feesPaid").asString()).isEqualTo(fee(100_000).add(fee(200_000)).toString());
        assertThat(available(payee)).isEqualTo(net(100_000).add(net(200_000)));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(100_000).add(fee(200_000)));
        assertThat(escrowAccount(id)).isEqualTo(big(300_000));

        refused(action(payer, id, "refund", Map.of()), 422, "ESCROW_DEADLINE_NOT_REACHED");
        awaitClockPast(deadline);
        refused(action(payee, id, "refund", Map.of()), 422, "ESCROW_IN_GRACE_PERIOD");
        JsonNode refunded = ok(action(payer, id, "refund", Map.of()));
        assertThat(refunded.path("state").asString()).isEqualTo("EXPIRED");
        assertThat(refunded.path("held").asString()).isEqualTo("0");
        refused(action(payer, id, "release", release(0, 1)), 409, "ESCROW_INVALID_STATE");

        assertThat(available(payer)).isEqualTo(big(700_000));
        assertThat(available(payee)).isEqualTo(big(297_000));
        assertThat(fees().subtract(feesBefore)).isEqualTo(big(3_000));
        assertThat(escrowAccount(id)).isZero();
        JsonNode escrow = get(payee, id);
        assertThat(actions(escrow)).containsExactly("CREATED", "ACCEPTED", "RELEASED", "RELEASED", "REFUNDED");
        List<String> rules = new ArrayList<>();
        escrow.path("history").forEach(h -> rules.add(h.path("rule").asString(null)));
        assertThat(rules).containsExactly(null, null, "PAYER_RELEASE", "EVALUATOR_RELEASE", "PAYER_REFUND");
        JsonNode release = escrow.path("history").get(2);
        assertThat(release.path("transfers")).hasSize(2);
        assertThat(release.path("transfers").get(0).path("to").asString()).isEqualTo(payee.address());
        assertThat(release.path("transfers").get(0).path("amount").asString()).isEqualTo(net(100_000).toString());
        assertThat(release.path("transfers").get(1).path("kind").asString()).isEqualTo("FEE");
        String transferId = release.path("transfers").get(0).path("id").asString();
        ApiClient.Response transfer = api().get("/api/v1/transfers/" + transferId, payee.accessToken());
        assertThat(transfer.status()).as("the payout is an ordinary ledger transfer: " + transfer).isEqualTo(200);

        List<String> ledgerAudit = jdbc.queryForList("SELECT action || ' ' || actor || ' ' || amount"
                + " FROM public.audit_log WHERE subject = ? ORDER BY id", String.class, "escrow:" + id);
        String evaluatorHex = evaluator.addr().hex();
        String payerHex = payer.addr().hex();
        assertThat(ledgerAudit).as("every payout has its ledger audit row with the rule and the actor").containsExactly(
                "PAYER_RELEASE " + payerHex + " " + net(100_000), "PAYER_RELEASE " + payerHex + " " + fee(100_000),
                "EVALUATOR_RELEASE " + evaluatorHex + " " + net(200_000),
                "EVALUATOR_RELEASE " + evaluatorHex + " " + fee(200_000), "PAYER_REFUND " + payerHex + " 300000");

        JsonNode audit = api().get("/api/v1/audit", payer.accessToken()).json();
        List<String> audited = new ArrayList<>();
        audit.path("items").forEach(item -> audited.add(item.path("action").asString()));
        assertThat(audited).contains("ESCROW_CREATED", "ESCROW_RELEASED", "ESCROW_REFUNDED");
    }

    @Test
    void an_atomic_escrow_to_three_payees_is_released_together() {
        Agent payer = funded(1_000_000);
        Agent a = agent();
        Agent b = agent();
        Agent c = agent();
        BigInteger feesBefore = fees();
        Map<String, Object> body = terms(agent(), Instant.now().plusSeconds(3600), a, 100_000L, b, 200_000L, c, 300_000L);
        body.put("atomic", true);
        String id = created(payer, body);
        assertThat(ok(action(a, id, "accept", Map.of())).path("state").asString()).isEqualTo("OPEN");
        refused(action(a, id, "accept", Map.of()), 409, "ESCROW_ALREADY_ACCEPTED");
        refused(action(payer, id, "release", Map.of()), 409, "ESCROW_INVALID_STATE");
        ok(action(b, id, "accept", Map.of()));
        assertThat(ok(action(c, id, "accept", null)).path("state").asString()).isEqualTo("FUNDED");
        refused(action(payer, id, "release", release(0, 100_000)), 422, "ESCROW_ATOMIC");
        JsonNode done = ok(action(payer, id, "release", Map.of()));
        assertThat(done.path("state").asString()).isEqualTo("COMPLETED");
        assertThat(available(a)).isEqualTo(net(100_000));
        assertThat(available(b)).isEqualTo(net(200_000));
        assertThat(available(c)).isEqualTo(net(300_000));
        assertThat(available(payer)).isEqualTo(big(400_000));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(100_000).add(fee(200_000)).add(fee(300_000)));
        assertThat(escrowAccount(id)).isZero();
        JsonNode release = get(payer, id).path("history").get(4);
        assertThat(release.path("action").asString()).isEqualTo("RELEASED");
        assertThat(release.path("transfers")).hasSize(6);
    }

    @Test
    void a_dispute_resolved_by_the_arbiter_with_a_split() {
        Agent payer = funded(1_000_000);
        Agent a = agent();
        Agent b = agent();
        Agent arbiter = agent();
        BigInteger feesBefore = fees();
        String id = created(payer, terms(arbiter, Instant.now().plusSeconds(3600), a, 300_000L, b, 200_000L));
        refused(action(a, id, "dispute", Map.of()), 409, "ESCROW_INVALID_STATE");
        ok(action(a, id, "accept", Map.of()));
        ok(action(b, id, "accept", Map.of()));
        ok(action(payer, id, "release", release(0, 100_000)));
        refused(action(arbiter, id, "dispute", Map.of()), 403, "ESCROW_ROLE_REQUIRED");
        JsonNode disputed = ok(action(b, id, "dispute", Map.of("reason", "work not delivered")));
        assertThat(disputed.path("state").asString()).isEqualTo("DISPUTED");
        assertThat(disputed.path("arbitrationDeadline").isMissingNode()).isFalse();
        refused(action(payer, id, "release", release(0, 1)), 409, "ESCROW_INVALID_STATE");

        Map<String, Object> notSumming = Map.of("payees", List.of(Map.of("index", 0, "amount", "100000"),
                Map.of("index", 1, "amount", "150000")), "payer", "149999");
        refused(action(arbiter, id, "resolve", notSumming), 422, "ESCROW_SPLIT_MISMATCH");
        Map<String, Object> aboveShare = Map.of("payees", List.of(Map.of("index", 0, "amount", "200001")),
                "payer", "199999");
        refused(action(arbiter, id, "resolve", aboveShare), 422, "ESCROW_AMOUNT_EXCEEDS_SHARE");
        Map<String, Object> split = Map.of("payees", List.of(Map.of("index", 0, "amount", "100000"),
                Map.of("index", 1, "amount", "150000")), "payer", "150000");
        refused(action(payer, id, "resolve", split), 403, "ESCROW_ROLE_REQUIRED");
        JsonNode resolved = ok(action(arbiter, id, "resolve", split));
        assertThat(resolved.path("state").asString()).isEqualTo("RESOLVED");
        assertThat(resolved.path("myRoles").get(0).asString()).isEqualTo("ARBITER");

        assertThat(available(a)).isEqualTo(net(100_000).add(net(100_000)));
        assertThat(available(b)).isEqualTo(net(150_000));
        assertThat(available(payer)).isEqualTo(big(500_000 + 150_000));
        assertThat(available(arbiter)).isZero();
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(100_000).add(fee(100_000)).add(fee(150_000)));
        assertThat(escrowAccount(id)).isZero();
        JsonNode last = get(arbiter, id).path("history").get(5);
        assertThat(last.path("action").asString()).isEqualTo("RESOLVED");
        assertThat(last.path("rule").asString()).isEqualTo("ARBITER_SPLIT");
        assertThat(last.path("actor").asString()).isEqualTo(arbiter.address());
        assertThat(get(a, id).path("history").get(4).path("detail").asString()).isEqualTo("work not delivered");
    }

    @Test
    void a_dispute_whose_arbiter_never_acts_is_settled_by_the_fallback() {
        Agent payer = funded(1_000_000);
        Agent payee = agent();
        Agent stranger = agent();
        BigInteger feesBefore = fees();
        Map<String, Object> body = terms(agent(), Instant.now().plusSeconds(3600), payee, 300_001L);
        body.put("fallback", "SPLIT_EVENLY");
        body.put("arbitrationSeconds", 2);
        String id = created(payer, body);
        ok(action(payee, id, "accept", Map.of()));
        JsonNode disputed = ok(action(payer, id, "dispute", Map.of()));
        refused(action(payer, id, "fallback", Map.of()), 422, "ESCROW_ARBITRATION_OPEN");
        refused(action(stranger, id, "fallback", Map.of()), 404, "NOT_FOUND");

        Instant arbitrationDeadline = Instant.parse(disputed.path("arbitrationDeadline").asString());
        awaitClockPast(arbitrationDeadline);
        ApiClient.Response byStranger = action(stranger, id, "fallback", Map.of());
        assertThat(byStranger.status()).as("anyone (or the schedule first: then not found for a stranger): "
                + byStranger).isIn(200, 404);
        awaitUntil("the fallback applied", () -> get(payer, id).path("state").asString().equals("RESOLVED"));
        refused(action(payer, id, "fallback", Map.of()), 409, "ESCROW_INVALID_STATE");

        assertThat(available(payee)).isEqualTo(net(150_000));
        assertThat(available(payer)).isEqualTo(big(1_000_000 - 300_001 + 150_001));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(150_000));
        assertThat(escrowAccount(id)).isZero();
        JsonNode escrow = get(payee, id);
        assertThat(actions(escrow)).containsExactly("CREATED", "ACCEPTED", "DISPUTED", "FALLBACK_APPLIED");
        JsonNode applied = escrow.path("history").get(3);
        assertThat(applied.path("rule").asString()).isEqualTo("FALLBACK_SPLIT");
        assertThat(applied.path("actor").asString()).isIn("scheduler", stranger.address());
    }

    @Test
    void a_cancelled_unaccepted_escrow_returns_everything_and_an_accepted_one_cannot_be_cancelled() {
        Agent payer = funded(1_000_000);
        Agent payee = agent();
        BigInteger feesBefore = fees();
        String id = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 250_000L));
        assertThat(available(payer)).isEqualTo(big(750_000));
        refused(action(payee, id, "cancel", Map.of()), 403, "ESCROW_ROLE_REQUIRED");
        JsonNode cancelled = ok(action(payer, id, "cancel", Map.of()));
        assertThat(cancelled.path("state").asString()).isEqualTo("REJECTED");
        refused(action(payee, id, "accept", Map.of()), 409, "ESCROW_INVALID_STATE");
        assertThat(available(payer)).isEqualTo(big(1_000_000));
        assertThat(available(payee)).isZero();
        assertThat(escrowAccount(id)).isZero();
        assertThat(fees()).isEqualTo(feesBefore);

        String accepted = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 250_000L, agent(), 1L));
        ok(action(payee, accepted, "accept", Map.of()));
        refused(action(payer, accepted, "cancel", Map.of()), 422, "ESCROW_PAYEE_ACCEPTED");

        for (Agent party : List.of(payer, payee)) {
            awaitUntil("escrow events in the feed of " + party.address(),
                    () -> escrowEvents(party, id).size() == 2 && escrowEvents(party, accepted).size() == 2);
            assertThat(escrowEvents(party, id)).containsExactly("escrow.created", "escrow.cancelled");
            assertThat(escrowEvents(party, accepted)).containsExactly("escrow.created", "escrow.accepted");
        }
    }

    /** The types of the events about escrow {@code id} in the feed of {@code party}, oldest first. */
    private List<String> escrowEvents(Agent party, String id) {
        List<String> types = new ArrayList<>();
        for (JsonNode event : api().get("/api/v1/events?limit=500", party.accessToken()).json().path("items")) {
            if (event.path("objectId").asString().equals(id)) {
                assertThat(event.path("data").path("escrowId").asString()).isEqualTo(id);
                types.add(event.path("type").asString());
            }
        }
        return types;
    }

    @Test
    void past_the_deadline_acceptance_and_disputes_are_refused_and_the_schedule_expires_the_escrow() {
        Agent payer = funded(1_000_000);
        Agent a = agent();
        Agent b = agent();
        Instant deadline = Instant.now().plusSeconds(6);
        Map<String, Object> funded = terms(agent(), deadline, a, 100_000L);
        funded.put("graceSeconds", 0);
        String fundedId = created(payer, funded);
        Map<String, Object> open = terms(agent(), deadline, a, 100_000L, b, 50_000L);
        open.put("graceSeconds", 0);
        String openId = created(payer, open);
        ok(action(a, fundedId, "accept", Map.of()));
        ok(action(a, openId, "accept", Map.of()));
        Map<String, Object> late = terms(agent(), Instant.now().minusSeconds(1), a, 1L);
        refused(create(payer, late), 422, "ESCROW_DEADLINE_PASSED");

        awaitClockPast(deadline);
        refused(action(a, fundedId, "dispute", Map.of()), 422, "ESCROW_DISPUTE_CLOSED");
        refused(action(b, openId, "accept", Map.of()), 422, "ESCROW_DEADLINE_PASSED");
        awaitUntil("the schedule expires both", () -> get(payer, fundedId).path("state").asString().equals("EXPIRED")
                && get(payer, openId).path("state").asString().equals("EXPIRED"));
        assertThat(available(payer)).isEqualTo(big(1_000_000));
        JsonNode expiry = get(payer, fundedId).path("history").get(2);
        assertThat(expiry.path("actor").asString()).isEqualTo("scheduler");
        assertThat(expiry.path("rule").asString()).isEqualTo("SCHEDULED_EXPIRY");
        assertThat(escrowAccount(fundedId)).isZero();
        assertThat(escrowAccount(openId)).isZero();
    }

    // ------------------------------------------------------------------ conventions

    @Test
    void the_fee_is_quoted_before_creation_and_a_fee_above_the_payers_maximum_is_refused() {
        Agent payer = funded(100_000);
        JsonNode quote = api().get("/api/v1/escrows/quote?amount=1000&token=" + token, payer.accessToken()).json();
        assertThat(quote.path("feeBps").asInt()).isEqualTo(100);
        assertThat(quote.path("maxFee").asString()).isEqualTo("10");
        assertThat(quote.path("payeesReceiveAtLeast").asString()).isEqualTo("990");
        Map<String, Object> body = terms(agent(), Instant.now().plusSeconds(3600), agent(), 1_000L);
        body.put("maxFeeBps", 99);
        refused(create(payer, body), 422, "ESCROW_FEE_ABOVE_MAX");
        assertThat(available(payer)).isEqualTo(big(100_000));
        JsonNode created = api().post("/api/v1/escrows", payer.accessToken(), key(),
                terms(agent(), Instant.now().plusSeconds(3600), agent(), 1_000L)).json();
        assertThat(created.path("feeBps").asInt()).isEqualTo(100);
        assertThat(created.path("maxFeeBps").asInt()).isEqualTo(100);
    }

    @Test
    void creates_are_validated_and_refused_with_their_codes() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        Agent arbiter = agent();
        Instant deadline = Instant.now().plusSeconds(3600);
        Map<String, Object> chain = terms(arbiter, deadline, payee, 1_000L);
        chain.put("custody", "chain");
        chain.put("graceSeconds", 3600);
        refused(create(payer, chain), 422, "ESCROW_PERIOD_FIXED");
        refused(create(payer, terms(arbiter, deadline, payee, 100_001L)), 422, "INSUFFICIENT_FUNDS");
        refused(create(payer, terms(payee, deadline, payee, 1_000L)), 422, "ESCROW_INVALID_ARBITER");
        refused(create(payer, terms(arbiter, Instant.now().plus(Duration.ofDays(400)), payee, 1_000L)), 422,
                "ESCROW_DEADLINE_TOO_FAR");
        Map<String, Object> noArbiter = terms(arbiter, deadline, payee, 1_000L);
        noArbiter.remove("arbiter");
        refused(create(payer, noArbiter), 400, "VALIDATION_FAILED");
        Map<String, Object> self = terms(arbiter, deadline, payer, 1_000L);
        refused(create(payer, self), 400, "VALIDATION_FAILED");
        Map<String, Object> bad = terms(arbiter, deadline, payee, 1_000L);
        bad.put("fallback", "COIN_FLIP");
        bad.put("deadline", "tomorrow");
        bad.put("termsHash", "0x12");
        ApiClient.Response invalid = create(payer, bad);
        refused(invalid, 400, "VALIDATION_FAILED");
        assertThat(invalid.json().path("errors")).hasSize(3);
        Map<String, Object> unknown = terms(arbiter, deadline, payee, 1_000L);
        unknown.put("color", "blue");
        assertThat(create(payer, unknown).status()).isEqualTo(400);
        ApiClient.Response noKey = api().post("/api/v1/escrows", payer.accessToken(), null,
                terms(arbiter, deadline, payee, 1_000L));
        refused(noKey, 400, "IDEMPOTENCY_KEY_MISSING");
        assertThat(available(payer)).isEqualTo(big(100_000));
    }

    @Test
    void every_endpoint_needs_a_principal_and_another_principals_escrow_is_not_found() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        Agent stranger = agent();
        String id = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 1_000L));
        for (String path : List.of("/api/v1/escrows", "/api/v1/escrows/" + id, "/api/v1/escrows/quote")) {
            ApiClient.Response response = api().get(path, null);
            assertThat(response.status()).as(path).isEqualTo(401);
            assertThat(response.header("Content-Type")).startsWith("application/problem+json");
        }
        for (String action : List.of("", "/" + id + "/accept", "/" + id + "/cancel", "/" + id + "/release",
                "/" + id + "/refund", "/" + id + "/dispute", "/" + id + "/resolve", "/" + id + "/fallback")) {
            assertThat(api().post("/api/v1/escrows" + action, null, key(), Map.of()).status()).as(action).isEqualTo(401);
        }
        refused(api().get("/api/v1/escrows/" + id, stranger.accessToken()), 404, "NOT_FOUND");
        refused(api().get("/api/v1/escrows/esc_nothing", stranger.accessToken()), 404, "NOT_FOUND");
        refused(action(stranger, id, "accept", Map.of()), 404, "NOT_FOUND");
        refused(action(stranger, id, "release", Map.of()), 404, "NOT_FOUND");
        refused(action(stranger, id, "cancel", Map.of()), 404, "NOT_FOUND");
        refused(action(stranger, id, "refund", Map.of()), 404, "NOT_FOUND");
        refused(action(stranger, id, "dispute", Map.of()), 404, "NOT_FOUND");
        refused(action(stranger, "esc_" + "0".repeat(32), "accept", Map.of()), 404, "NOT_FOUND");
        assertThat(api().get("/api/v1/escrows", stranger.accessToken()).json().path("items")).isEmpty();
        assertThat(get(payee, id).path("myRoles").get(0).asString()).isEqualTo("PAYEE");
    }

    @Test
    void lists_filter_by_state_and_role_with_keyset_pages() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        Agent arbiter = agent();
        String first = created(payer, terms(arbiter, Instant.now().plusSeconds(3600), payee, 1_000L));
        String second = created(payer, terms(arbiter, Instant.now().plusSeconds(3600), payee, 2_000L));
        String third = created(payer, terms(arbiter, Instant.now().plusSeconds(3600), payee, 3_000L));
        ok(action(payer, first, "cancel", Map.of()));

        JsonNode page = api().get("/api/v1/escrows?limit=2", payer.accessToken()).json();
        assertThat(page.path("items")).hasSize(2);
        assertThat(page.path("items").get(0).path("id").asString()).isEqualTo(third);
        assertThat(page.path("items").get(1).path("id").asString()).isEqualTo(second);
        JsonNode next = api().get("/api/v1/escrows?limit=2&cursor=" + page.path("nextCursor").asString(),
                payer.accessToken()).json();
        assertThat(next.path("items")).hasSize(1);
        assertThat(next.path("items").get(0).path("id").asString()).isEqualTo(first);
        assertThat(next.path("nextCursor").isNull() || next.path("nextCursor").isMissingNode()).isTrue();

        JsonNode rejected = api().get("/api/v1/escrows?state=REJECTED", payer.accessToken()).json();
        assertThat(rejected.path("items")).hasSize(1);
        assertThat(api().get("/api/v1/escrows?role=payee", payer.accessToken()).json().path("items")).isEmpty();
        assertThat(api().get("/api/v1/escrows?role=PAYEE&state=OPEN", payee.accessToken()).json().path("items")).hasSize(2);
        assertThat(api().get("/api/v1/escrows?role=ARBITER", arbiter.accessToken()).json().path("items")).hasSize(3);
        refused(api().get("/api/v1/escrows?role=KING", payer.accessToken()), 400, "VALIDATION_FAILED");
        refused(api().get("/api/v1/escrows?limit=0", payer.accessToken()), 400, "VALIDATION_FAILED");
        refused(api().get("/api/v1/escrows?cursor=x", payer.accessToken()), 400, "VALIDATION_FAILED");
    }

    @Test
    void replays_answer_the_first_response_and_a_conflicting_replay_is_422() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        Map<String, Object> body = terms(agent(), Instant.now().plusSeconds(3600), payee, 10_000L);
        String createKey = key();
        ApiClient.Response first = api().post("/api/v1/escrows", payer.accessToken(), createKey, body);
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        ApiClient.Response replay = api().post("/api/v1/escrows", payer.accessToken(), createKey, body);
        assertThat(replay.status()).isEqualTo(201);
        assertThat(replay.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replay.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        body.put("graceSeconds", 5);
        refused(api().post("/api/v1/escrows", payer.accessToken(), createKey, body), 422, "IDEMPOTENCY_KEY_REUSED");
        assertThat(available(payer)).isEqualTo(big(90_000));

        String id = first.json().path("id").asString();
        ok(action(payee, id, "accept", Map.of()));
        String releaseKey = key();
        String path = "/api/v1/escrows/" + id + "/release";
        ok(api().post(path, payer.accessToken(), releaseKey, release(0, 4_000)));
        ApiClient.Response again = api().post(path, payer.accessToken(), releaseKey, release(0, 4_000));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        refused(api().post(path, payer.accessToken(), releaseKey, release(0, 4_001)), 422, "IDEMPOTENCY_KEY_REUSED");
        assertThat(available(payee)).isEqualTo(net(4_000));
        assertThat(escrowAccount(id)).isEqualTo(big(6_000));
    }

    @Test
    void a_release_retried_after_the_ledger_committed_but_the_service_did_not_pays_once() {
        releaseRetriedAfterALostCommit(false);
    }

    @Test
    void a_lost_commit_of_an_escrow_created_before_the_salt_is_recovered_under_its_old_ids() {
        // An escrow created before the transfer salt existed has none (NULL): its payouts keep the ids
        // derived from the escrow alone, so a release its lost commit paid is found and paid once.
        releaseRetriedAfterALostCommit(true);
    }

    /**
     * A release whose payouts the ledger committed while the service's commit was lost, retried: paid
     * once. {@code legacy}: the escrow has no transfer salt (created before it), and its ids are the old ones.
     */
    private void releaseRetriedAfterALostCommit(boolean legacy) {
        Agent payer = funded(100_000);
        Agent payee = agent();
        BigInteger feesBefore = fees();
        String id = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 50_000L));
        ok(action(payee, id, "accept", Map.of()));
        if (legacy) {
            assertThat(jdbc.update("UPDATE backend.escrows SET transfer_salt = NULL WHERE id = ?", id)).isEqualTo(1);
        }
        int next = get(payer, id).path("history").size() + 1;
        lostRelease(id, payee, 20_000, next, legacy ? null : salt(id));

        JsonNode released = ok(action(payer, id, "release", release(0, 20_000)));
        assertThat(released.path("held").asString()).isEqualTo("30000");
        assertThat(available(payee)).as("paid once: the derived ids made the ledger answer EXISTS").isEqualTo(net(20_000));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(20_000));
        assertThat(escrowAccount(id)).isEqualTo(big(30_000));
        JsonNode history = get(payer, id).path("history");
        assertThat(history).hasSize(3);
        assertThat(history.get(2).path("actor").asString()).isEqualTo(payer.address());
        assertThat(history.get(2).path("rule").asString()).isEqualTo("PAYER_RELEASE");
        assertThat(history.get(2).path("transfers").get(0).path("id").asString()).isEqualTo(EscrowIds.transfer(id,
                legacy ? null : salt(id), EscrowAction.RELEASED, "payee:0", next).toUuid().toString());
    }

    @Test
    void payouts_of_a_lost_commit_are_recovered_before_a_different_action_is_decided() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        Agent arbiter = agent();
        BigInteger feesBefore = fees();
        String id = created(payer, terms(arbiter, Instant.now().plusSeconds(3600), payee, 50_000L));
        ok(action(payee, id, "accept", Map.of()));
        int next = get(payer, id).path("history").size() + 1;
        lostRelease(id, payee, 20_000, next, salt(id));

        JsonNode disputed = ok(action(payee, id, "dispute", Map.of()));
        assertThat(disputed.path("state").asString()).isEqualTo("DISPUTED");
        assertThat(disputed.path("held").asString()).isEqualTo("30000");
        assertThat(actions(disputed)).containsExactly("CREATED", "ACCEPTED", "RELEASED", "DISPUTED");
        assertThat(disputed.path("history").get(2).path("actor").asString()).isEqualTo("recovery");
        refused(action(arbiter, id, "resolve", Map.of("payees", List.of(Map.of("index", 0, "amount", "50000")),
                "payer", "0")), 422, "ESCROW_AMOUNT_EXCEEDS_SHARE");
        ok(action(arbiter, id, "resolve", Map.of("payees", List.of(Map.of("index", 0, "amount", "30000")),
                "payer", "0")));
        assertThat(available(payee)).isEqualTo(net(20_000).add(net(30_000)));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(20_000).add(fee(30_000)));
        assertThat(escrowAccount(id)).isZero();
        assertThat(available(payer)).isEqualTo(big(50_000));
    }

    @Test
    void payouts_of_a_lost_commit_stay_recovered_when_the_action_after_them_is_refused() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        String id = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 50_000L));
        ok(action(payee, id, "accept", Map.of()));
        int next = get(payer, id).path("history").size() + 1;
        // a release of all 50,000 paid in the ledger, whose commit in the service was lost: the escrow has ended
        lostRelease(id, payee, 50_000, next, salt(id));
        assertThat(get(payer, id).path("state").asString()).isEqualTo("FUNDED");

        // the payer's next action is another release, refused against what the ledger shows: nothing left
        refused(action(payer, id, "release", release(0, 10_000)), 409, "ESCROW_INVALID_STATE");
        JsonNode after = get(payer, id);
        assertThat(after.path("state").asString()).as("the recovery stays though the action after it was refused")
                .isEqualTo("COMPLETED");
        assertThat(after.path("held").asString()).isEqualTo("0");
        assertThat(actions(after)).containsExactly("CREATED", "ACCEPTED", "RELEASED");
        assertThat(after.path("history").get(2).path("actor").asString()).isEqualTo("recovery");
        assertThat(available(payee)).isEqualTo(net(50_000));
        assertThat(escrowAccount(id)).isZero();
        refused(action(payer, id, "release", release(0, 10_000)), 409, "ESCROW_INVALID_STATE");
        assertThat(actions(get(payer, id))).as("recovered once").containsExactly("CREATED", "ACCEPTED", "RELEASED");
    }

    @Test
    void ids_a_party_derives_from_the_escrow_and_squats_first_do_not_block_its_release_or_refund() {
        // Every party reads the escrow's id and its version. Before the payer releases, the payee commits
        // from its own account a 1-unit transfer under the id derived from them alone for its own payout
        // (EscrowIds.transfer(id, RELEASED, "payee:0", next version)), and the arbiter does the same for
        // the fee's part of that release and for the payer's part of the refunds that could follow. None
        // may block the escrow's money: the release pays the payee, and the refund after the deadline
        // returns the rest to the payer.
        Agent payer = funded(100_000);
        Agent payee = funded(10);
        Agent arbiter = funded(10);
        Agent bystander = agent();
        BigInteger feesBefore = fees();
        Instant deadline = Instant.now().plusSeconds(8);
        Map<String, Object> body = terms(arbiter, deadline, payee, 50_000L);
        body.put("graceSeconds", 3600);
        String id = created(payer, body);
        ok(action(payee, id, "accept", Map.of()));
        int next = get(payer, id).path("history").size() + 1;
        squat(payee, EscrowIds.transfer(id, EscrowAction.RELEASED, "payee:0", next), bystander);
        squat(arbiter, EscrowIds.transfer(id, EscrowAction.RELEASED, "fee:0", next), bystander);
        squat(arbiter, EscrowIds.transfer(id, EscrowAction.REFUNDED, "payer", next + 1), bystander);

        JsonNode released = ok(action(payer, id, "release", release(0, 20_000)));
        assertThat(released.path("state").asString()).isEqualTo("FUNDED");
        assertThat(released.path("held").asString()).isEqualTo("30000");
        assertThat(available(payee)).isEqualTo(big(9).add(net(20_000)));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(20_000));

        awaitClockPast(deadline);
        JsonNode refunded = ok(action(payer, id, "refund", Map.of()));
        assertThat(refunded.path("state").asString()).isEqualTo("EXPIRED");
        assertThat(refunded.path("held").asString()).isEqualTo("0");
        assertThat(available(payer)).isEqualTo(big(80_000));
        assertThat(available(payee)).isEqualTo(big(9).add(net(20_000)));
        assertThat(available(arbiter)).isEqualTo(big(8));
        assertThat(available(bystander)).isEqualTo(big(3));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(20_000));
        assertThat(escrowAccount(id)).isZero();
        JsonNode escrow = get(payee, id);
        assertThat(actions(escrow)).containsExactly("CREATED", "ACCEPTED", "RELEASED", "REFUNDED");
        JsonNode refund = escrow.path("history").get(3).path("transfers");
        assertThat(refund).hasSize(1);
        assertThat(refund.get(0).path("to").asString()).isEqualTo(payer.address());
        assertThat(refund.get(0).path("amount").asString()).isEqualTo("30000");
        String salt = salt(id);
        assertThat(salt).matches("[0-9a-f]{32}");
        assertThat(escrow.toString()).as("the salt is never shown").doesNotContain(salt);
        for (Agent party : List.of(payer, payee, arbiter)) {
            assertThat(api().get("/api/v1/events?limit=500", party.accessToken()).json().toString()).doesNotContain(salt);
        }
        List<String> audited = jdbc.queryForList("SELECT row_to_json(a)::text FROM backend.audit_records a"
                + " WHERE a.object_id = ? UNION ALL SELECT row_to_json(l)::text FROM public.audit_log l"
                + " WHERE l.subject = ?", String.class, id, "escrow:" + id);
        assertThat(audited).isNotEmpty().noneMatch(row -> row.contains(salt));
    }

    /** {@code who} pays 1 base unit to {@code to} under transfer id {@code id} (a client may choose its ids). */
    private void squat(Agent who, dev.agentescrow.batcher.ledger.TransferId id, Agent to) {
        ApiClient.Response paid = api().post("/api/v1/transfers", who.accessToken(), key(), Map.of("to", to.address(),
                "token", token, "amount", "1", "id", id.toUuid().toString()));
        assertThat(paid.status()).as(paid.toString()).isEqualTo(201);
        assertThat(paid.json().path("status").asString()).isEqualTo("COMMITTED");
    }

    @Test
    void a_create_under_a_key_whose_record_expired_with_other_terms_is_refused() {
        Agent payer = funded(100_000);
        Agent payee = agent();
        Agent arbiter = agent();
        Instant deadline = Instant.now().plusSeconds(3600);
        String createKey = key();
        ApiClient.Response first = api().post("/api/v1/escrows", payer.accessToken(), createKey,
                terms(arbiter, deadline, payee, 10_000L));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        jdbc.update("DELETE FROM backend.idempotency_keys WHERE idempotency_key = ?", createKey);
        ApiClient.Response same = api().post("/api/v1/escrows", payer.accessToken(), createKey,
                terms(arbiter, deadline, payee, 10_000L));
        assertThat(same.status()).as(same.toString()).isEqualTo(201);
        assertThat(same.json().path("id").asString()).isEqualTo(first.json().path("id").asString());
        jdbc.update("DELETE FROM backend.idempotency_keys WHERE idempotency_key = ?", createKey);
        refused(api().post("/api/v1/escrows", payer.accessToken(), createKey, terms(arbiter, deadline, payee, 10_001L)),
                422, "ESCROW_ID_CONFLICT");
        assertThat(available(payer)).as("funded once").isEqualTo(big(90_000));
    }

    @Test
    void concurrent_releases_of_one_share_pay_once() throws Exception {
        Agent payer = funded(1_000_000);
        Agent payee = agent();
        BigInteger feesBefore = fees();
        String funded = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 400_000L));
        ok(action(payee, funded, "accept", Map.of()));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<ApiClient.Response>> responses = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Callable<ApiClient.Response> call = () -> action(payer, funded, "release",
                        Map.of("releases", List.of(Map.of("index", 0))));
                responses.add(pool.submit(call));
            }
            int paid = 0;
            for (Future<ApiClient.Response> future : responses) {
                ApiClient.Response response = future.get();
                if (response.status() == 200) {
                    paid++;
                } else {
                    refused(response, 409, "ESCROW_INVALID_STATE");
                }
            }
            assertThat(paid).isEqualTo(1);

            String partial = created(payer, terms(agent(), Instant.now().plusSeconds(3600), payee, 100_000L));
            ok(action(payee, partial, "accept", Map.of()));
            String sameKey = key();
            List<Future<ApiClient.Response>> replays = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Callable<ApiClient.Response> call = () -> api().post("/api/v1/escrows/" + partial + "/release",
                        payer.accessToken(), sameKey, release(0, 30_000));
                replays.add(pool.submit(call));
            }
            for (Future<ApiClient.Response> future : replays) {
                ApiClient.Response response = future.get();
                assertThat(response.status()).as(response.toString()).isIn(200, 409);
                if (response.status() == 409) {
                    assertThat(response.code()).isEqualTo("IDEMPOTENCY_REQUEST_IN_FLIGHT");
                }
            }
            assertThat(escrowAccount(partial)).isEqualTo(big(70_000));
        } finally {
            pool.shutdownNow();
        }
        assertThat(available(payee)).isEqualTo(net(400_000).add(net(30_000)));
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee(400_000).add(fee(30_000)));
        assertThat(escrowAccount(funded)).isZero();
        assertThat(get(payer, funded).path("history")).hasSize(3);
    }

    @Test
    void metrics_show_active_escrows_and_the_amount_locked_per_token() {
        Agent payer = funded(100_000);
        created(payer, terms(agent(), Instant.now().plusSeconds(3600), agent(), 77_000L));
        awaitUntil("the gauges show the escrow", () -> {
            String metrics = api().get("/actuator/prometheus", null).raw().body();
            return metrics.contains("agentescrow_escrows_active") && metrics.lines().anyMatch(line ->
                    line.startsWith("agentescrow_escrow_amount_locked") && line.contains(token)
                            && Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) >= 77_000);
        });
        String openApi = api().get("/v3/api-docs", null).raw().body();
        for (String path : List.of("/api/v1/escrows", "/api/v1/escrows/quote", "/api/v1/escrows/{id}",
                "/api/v1/escrows/{id}/release", "/api/v1/escrows/{id}/resolve", "/api/v1/escrows/{id}/fallback")) {
            assertThat(openApi).contains("\"" + path + "\"");
        }
        assertThat(openApi).contains("ESCROW_SPLIT_MISMATCH", "CUSTODY_NOT_SUPPORTED");
    }
}
