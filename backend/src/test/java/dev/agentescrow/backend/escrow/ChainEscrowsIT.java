package dev.agentescrow.backend.escrow;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static dev.agentescrow.backend.escrow.EscrowCalls.actions;
import static dev.agentescrow.backend.escrow.EscrowCalls.ok;
import static dev.agentescrow.backend.escrow.EscrowCalls.refused;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.TestChain;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import tools.jackson.databind.JsonNode;

/**
 * Chain-custody escrows end to end over HTTP against the shared Hardhat node and PostgreSQL: fresh
 * keys per party (ETH by {@code hardhat_setBalance}, tokens by the service's faucet), permits and
 * acceptances signed with web3j from the typed data the service answers, every call sent by its
 * party from the data the service answers. The escrow's state, history and events follow the
 * TaskEscrow's confirmed events; the dispute is resolved by the service's own arbiter key; the fee
 * reaches the ledger's FEES account through the fee sweep.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChainEscrowsIT extends BackendITSupport {
    private static final BigInteger FEE_BPS = BigInteger.valueOf(100);

    @Autowired
    Batcher batcher;

    @Autowired
    ChainFeeSweep feeSweep;

    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    private String token;
    private ChainClient client;
    private TaskEscrowGateway contract;

    record Agent(Credentials key, String accessToken) {
        String address() {
            return Address.of(key.getAddress()).checksummed();
        }
    }

    @BeforeAll
    void setUp() {
        token = CHAIN.deployment().token().checksummed();
        client = CHAIN.client();
        contract = CHAIN.deployment().escrow(client);
    }

    // ------------------------------------------------------------------ helpers

    /** A fresh key with ETH, signed in. */
    private Agent agent() {
        Credentials key = TestChain.fundedFreshKey();
        return new Agent(key, EscrowCalls.signIn(api(), key));
    }

    /** A fresh key with ETH and {@code tokens} of the test token from the faucet. */
    private Agent payer(long tokens) {
        Agent payer = agent();
        ApiClient.Response minted = api().post("/api/v1/faucet", payer.accessToken(), key(),
                Map.of("token", token, "amount", Long.toString(tokens)));
        assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
        return payer;
    }

    private String serviceArbiter() {
        return api().get("/api/v1/escrows/quote", login(ADMIN_ACCOUNT)).json().path("chainArbiter").asString();
    }

    private Map<String, Object> terms(String arbiter, Object... payeesAndShares) {
        List<Map<String, String>> payees = new ArrayList<>();
        for (int i = 0; i < payeesAndShares.length; i += 2) {
            payees.add(Map.of("address", ((Agent) payeesAndShares[i]).address(),
                    "share", Long.toString((Long) payeesAndShares[i + 1])));
        }
        Map<String, Object> body = new HashMap<>();
        body.put("custody", "chain");
        body.put("token", token);
        body.put("payees", payees);
        body.put("deadline", Instant.now().plusSeconds(3600).toString());
        body.put("arbiter", arbiter);
        body.put("maxFeeBps", 100);
        body.put("termsHash", "0x" + "cd".repeat(32));
        return body;
    }

    private static String sign(Credentials key, JsonNode typedData) {
        try {
            byte[] digest = new StructuredDataEncoder(ApiClient.JSON.writeValueAsString(typedData)).hashStructuredData();
            Sign.SignatureData signature = Sign.signMessage(digest, key.getEcKeyPair(), false);
            byte[] bytes = new byte[65];
            System.arraycopy(signature.getR(), 0, bytes, 0, 32);
            System.arraycopy(signature.getS(), 0, bytes, 32, 32);
            bytes[64] = signature.getV()[0];
            return "0x" + HexFormat.of().formatHex(bytes);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends a call the service answered ({@code to}, {@code data}) from the party's own key; waits for its receipt. */
    private MinedReceipt send(Agent from, JsonNode call) {
        assertThat(call.path("from").asString()).isEqualTo(from.address());
        PreparedTransaction tx = client.prepare(from.key(), Address.of(call.path("to").asString()),
                call.path("data").asString(), client.pendingNonce(Address.of(from.address())));
        client.broadcastAndPoll(tx);
        MinedReceipt[] mined = new MinedReceipt[1];
        awaitUntil("the transaction " + tx.txHash() + " mined", () -> {
            Optional<MinedReceipt> receipt = client.receipt(tx.txHash());
            receipt.ifPresent(r -> mined[0] = r);
            return receipt.isPresent();
        });
        assertThat(mined[0].succeeded()).as("call " + call).isTrue();
        return mined[0];
    }

    /** Creates a chain escrow, funds it with a permit signed by the payer; returns its id once OPEN. */
    private String funded(Agent payer, Map<String, Object> body) {
        ApiClient.Response created = api().post("/api/v1/escrows", payer.accessToken(), key(), body);
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        JsonNode escrow = created.json();
        assertThat(escrow.path("custody").asString()).isEqualTo("chain");
        assertThat(escrow.path("state").asString()).isEqualTo("PENDING_FUNDING");
        String id = escrow.path("id").asString();
        JsonNode permit = escrow.path("chain").path("funding").path("permit");
        assertThat(permit.path("message").path("spender").asString()).isEqualTo(contract.address().checksummed());
        String signature = sign(payer.key(), permit);
        ApiClient.Response funding = api().get("/api/v1/escrows/" + id + "/funding?permitSignature=" + signature,
                payer.accessToken());
        assertThat(funding.status()).as(funding.toString()).isEqualTo(200);
        JsonNode call = funding.json().path("chain").path("funding").path("createWithPermit");
        assertThat(call.path("to").asString()).isEqualTo(contract.address().checksummed());
        send(payer, call);
        awaitState(payer, id, "OPEN");
        return id;
    }

    private JsonNode get(Agent who, String id) {
        return EscrowCalls.get(api(), who.accessToken(), id);
    }

    private JsonNode awaitState(Agent who, String id, String state) {
        JsonNode[] last = new JsonNode[1];
        awaitUntil("escrow " + id + " " + state, () -> {
            last[0] = get(who, id);
            return last[0].path("state").asString().equals(state);
        });
        return last[0];
    }

    private ApiClient.Response action(Agent who, String id, String action, Object body) {
        return EscrowCalls.action(api(), who.accessToken(), id, action, body);
    }

    /** The payee signs its acceptance from the typed data the service answers; the service relays it. */
    private JsonNode acceptBySignature(Agent payee, String id) {
        JsonNode prepared = ok(action(payee, id, "accept", Map.of()));
        JsonNode typed = prepared.path("chain").path("typedData").get(0);
        assertThat(typed.path("primaryType").asString()).isEqualTo("Acceptance");
        JsonNode relayed = ok(action(payee, id, "accept", Map.of("signature", sign(payee.key(), typed))));
        assertThat(relayed.path("chain").path("sent").path("state").asString()).isEqualTo("SUCCEEDED");
        return relayed;
    }

    private BigInteger fees() {
        LedgerReads reads = batcher.reads();
        return reads.account(AccountKey.fees(Address.of(token)), reads.lastCommittedSeq(), Duration.ofSeconds(10)).get()
                .map(AccountView::available).orElse(BigInteger.ZERO);
    }

    private BigInteger tokenBalance(Agent who) {
        return CHAIN.deployment().token(client).balanceOf(Address.of(who.address())).baseUnits();
    }

    private List<JsonNode> escrowEvents(Agent who, String id) {
        List<JsonNode> out = new ArrayList<>();
        String after = "0";
        while (true) {
            JsonNode page = api().get("/api/v1/events?limit=100&after=" + after, who.accessToken()).json();
            page.path("items").forEach(e -> {
                if (e.path("objectId").asString().equals(id)) {
                    out.add(e);
                }
            });
            if (page.path("nextCursor").isNull() || page.path("nextCursor").isMissingNode()) {
                return out;
            }
            after = page.path("nextCursor").asString();
        }
    }

    // ------------------------------------------------------------------ tests

    @Test
    void funded_with_a_permit_accepted_by_signature_released_and_its_fee_reaches_the_ledger() {
        Agent payer = payer(1_000_000);
        Agent payee = agent();
        // Fees of other chain escrows of this class are carried into the ledger first.
        Address recipient = feeSweep.recipient().orElseThrow();
        awaitUntil("no chain fees owed or in a sweep", () -> {
            feeSweep.sweep();
            return contract.feesOwed(Address.of(token), recipient).isZero() && jdbc.queryForObject(
                    "SELECT count(*) FROM backend.fee_sweeps WHERE state <> 'BOOKED'", Long.class) == 0;
        });
        BigInteger feesBefore = fees();
        String id = funded(payer, terms(serviceArbiter(), payee, 600_000L));
        assertThat(tokenBalance(payer)).isEqualTo(BigInteger.valueOf(400_000));
        JsonNode open = get(payee, id);
        assertThat(open.path("held").asString()).isEqualTo("600000");
        assertThat(open.path("chain").path("escrowId").asString()).isNotBlank();
        assertThat(open.path("history").get(0).path("action").asString()).isEqualTo("CREATED");
        assertThat(open.path("history").get(0).path("txHash").asString()).startsWith("0x");
        // The gauges count the chain escrow from its row (what its confirmed events left in it).
        awaitUntil("the gauges show the chain escrow", () -> api().get("/actuator/prometheus", null).raw().body()
                .lines().anyMatch(line -> line.startsWith("agentescrow_escrow_amount_locked") && line.contains(token)
                        && Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)) >= 600_000));

        acceptBySignature(payee, id);
        awaitState(payer, id, "FUNDED");

        JsonNode part = ok(action(payer, id, "release", Map.of("releases", List.of(Map.of("index", 0, "amount",
                "200000")))));
        JsonNode releaseCall = part.path("chain").path("calls").get(0);
        assertThat(releaseCall.path("function").asString()).isEqualTo("release");
        send(payer, releaseCall);
        awaitUntil("the part release seen", () -> get(payer, id).path("payees").get(0).path("released").asString()
                .equals("200000"));
        JsonNode rest = ok(action(payer, id, "release", Map.of()));
        assertThat(rest.path("chain").path("calls").get(0).path("function").asString()).isEqualTo("releaseAll");
        send(payer, rest.path("chain").path("calls").get(0));
        JsonNode completed = awaitState(payee, id, "COMPLETED");

        BigInteger fee = BigInteger.valueOf(600_000).multiply(FEE_BPS).divide(BigInteger.valueOf(10_000));
        assertThat(tokenBalance(payee)).isEqualTo(BigInteger.valueOf(600_000).subtract(fee));
        assertThat(completed.path("held").asString()).isEqualTo("0");
        assertThat(completed.path("feesPaid").asString()).isEqualTo(fee.toString());
        assertThat(actions(completed)).containsExactly("CREATED", "ACCEPTED", "RELEASED", "RELEASED");
        // Each chain event published once to the parties (the payee's feed).
        awaitUntil("the payee's events", () -> escrowEvents(payee, id).size() == 4);
        assertThat(escrowEvents(payee, id).stream().map(e -> e.path("type").asString()).toList())
                .containsExactly("escrow.created", "escrow.accepted", "escrow.released", "escrow.released");
        // Wrong state now: no call is prepared.
        refused(action(payer, id, "release", Map.of()), 409, "ESCROW_INVALID_STATE");

        // The fee: claimed from the contract, deposited into the vault, moved to the ledger's FEES account.
        awaitUntil("the chain fee in the ledger's FEES account", () -> {
            feeSweep.sweep();
            return fees().subtract(feesBefore).compareTo(fee) >= 0;
        });
        assertThat(fees().subtract(feesBefore)).isEqualTo(fee);
        assertThat(contract.feesOwed(Address.of(token), recipient).baseUnits()).isZero();
        // The fee's deposit settled: the vault's token balance reconciles with the ledger.
        String admin = login(ADMIN_ACCOUNT);
        awaitUntil("a clean verification (the vault reconciles with the ledger)", () -> {
            JsonNode verified = api().post("/api/v1/admin/verify", admin, key(), "{}").json();
            return verified.path("ok").asBoolean() && verified.path("reconciled").asBoolean();
        });
    }

    @Test
    void a_disputed_chain_escrow_is_resolved_by_the_services_arbiter_once() {
        Agent payer = payer(1_000_000);
        Agent a = agent();
        Agent b = agent();
        String arbiter = serviceArbiter();
        assertThat(arbiter).isEqualTo(Address.of(ESCROW_ARBITER.getAddress()).checksummed());
        String id = funded(payer, terms(arbiter, a, 300_000L, b, 200_000L));
        acceptBySignature(a, id);
        acceptBySignature(b, id);
        awaitState(payer, id, "FUNDED");
        JsonNode dispute = ok(action(a, id, "dispute", Map.of()));
        send(a, dispute.path("chain").path("calls").get(0));
        awaitState(payer, id, "DISPUTED");

        Map<String, Object> split = Map.of("payees", List.of(Map.of("index", 0, "amount", "100000"),
                Map.of("index", 1, "amount", "200000")), "payer", "200000");
        // The arbiter is the service's key: a party cannot have it send; an admin can.
        refused(action(payer, id, "resolve", split), 403, "ESCROW_ROLE_REQUIRED");
        String admin = login(ADMIN_ACCOUNT);
        ApiClient.Response first = api().post("/api/v1/escrows/" + id + "/resolve", admin, key(), split);
        assertThat(first.status()).as(first.toString()).isEqualTo(200);
        JsonNode sent = first.json().path("chain").path("sent");
        assertThat(sent.path("state").asString()).isEqualTo("SUCCEEDED");
        // A retry under another key sends nothing new: the same transaction.
        ApiClient.Response again = api().post("/api/v1/escrows/" + id + "/resolve", admin, key(), split);
        if (again.status() == 200) {
            assertThat(again.json().path("chain").path("sent").path("txHash").asString())
                    .isEqualTo(sent.path("txHash").asString());
        } else {
            refused(again, 409, "ESCROW_INVALID_STATE");
        }
        JsonNode resolved = awaitState(payer, id, "RESOLVED");
        assertThat(actions(resolved)).containsExactly("CREATED", "ACCEPTED", "ACCEPTED", "DISPUTED", "RESOLVED");
        assertThat(resolved.path("history").get(4).path("actor").asString()).isEqualTo(arbiter);
        assertThat(tokenBalance(a)).isEqualTo(BigInteger.valueOf(99_000));
        assertThat(tokenBalance(b)).isEqualTo(BigInteger.valueOf(198_000));
        assertThat(tokenBalance(payer)).isEqualTo(BigInteger.valueOf(700_000));
        // Another split after the first: refused, nothing sent.
        Map<String, Object> other = Map.of("payees", List.of(Map.of("index", 0, "amount", "300000"),
                Map.of("index", 1, "amount", "200000")), "payer", "0");
        refused(api().post("/api/v1/escrows/" + id + "/resolve", admin, key(), other), 409, "ESCROW_INVALID_STATE");
    }

    @Test
    void chain_escrows_refuse_with_their_codes() {
        Agent payer = payer(100_000);
        Agent payee = agent();
        Agent stranger = agent();
        String arbiter = serviceArbiter();
        Map<String, Object> grace = terms(arbiter, payee, 1_000L);
        grace.put("graceSeconds", 3600);
        refused(api().post("/api/v1/escrows", payer.accessToken(), key(), grace), 422, "ESCROW_PERIOD_FIXED");
        refused(api().post("/api/v1/escrows", payer.accessToken(), key(), terms(arbiter, payee, 1_000L, payee, 2_000L)),
                422, "ESCROW_DUPLICATE_PAYEE");
        Map<String, Object> cheap = terms(arbiter, payee, 1_000L);
        cheap.put("maxFeeBps", 50);
        refused(api().post("/api/v1/escrows", payer.accessToken(), key(), cheap), 422, "ESCROW_FEE_ABOVE_MAX");
        refused(api().post("/api/v1/escrows", payer.accessToken(), key(), terms(payee.address(), payee, 1_000L)), 422,
                "ESCROW_INVALID_ARBITER");

        ApiClient.Response created = api().post("/api/v1/escrows", payer.accessToken(), key(),
                terms(arbiter, payee, 1_000L));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String id = created.json().path("id").asString();
        // Not funded yet: every action is in the wrong state.
        refused(action(payer, id, "release", Map.of()), 409, "ESCROW_INVALID_STATE");
        refused(action(payee, id, "accept", Map.of()), 409, "ESCROW_INVALID_STATE");
        refused(action(payer, id, "cancel", Map.of()), 409, "ESCROW_INVALID_STATE");
        // Not a party: not found.
        assertThat(api().get("/api/v1/escrows/" + id, stranger.accessToken()).status()).isEqualTo(404);
        refused(action(stranger, id, "dispute", Map.of()), 404, "NOT_FOUND");
        assertThat(api().get("/api/v1/escrows/" + id + "/funding", stranger.accessToken()).status()).isEqualTo(404);
        // Only the payer funds; a signature is 65 bytes.
        refused(api().get("/api/v1/escrows/" + id + "/funding", payee.accessToken()), 403, "ESCROW_ROLE_REQUIRED");
        refused(api().get("/api/v1/escrows/" + id + "/funding?permitSignature=0x12", payer.accessToken()), 400,
                "VALIDATION_FAILED");

        // Funded: a forged acceptance is refused by the contract before anything is sent.
        String funded = funded(payer, terms(arbiter, payee, 2_000L));
        refused(action(payee, funded, "accept", Map.of("signature", "0x" + "11".repeat(65))), 422,
                "ESCROW_INVALID_SIGNATURE");
        refused(action(payer, funded, "accept", Map.of()), 403, "ESCROW_ROLE_REQUIRED");
        // A payee cannot release; the payer can cancel before any acceptance (the call to send).
        refused(action(payee, funded, "release", Map.of()), 409, "ESCROW_INVALID_STATE");
        JsonNode cancel = ok(action(payer, funded, "cancel", Map.of()));
        send(payer, cancel.path("chain").path("calls").get(0));
        JsonNode rejected = awaitState(payer, funded, "REJECTED");
        assertThat(actions(rejected)).containsExactly("CREATED", "CANCELLED");
        // Lists show chain escrows in the same shape.
        JsonNode listed = api().get("/api/v1/escrows?state=REJECTED", payer.accessToken()).json().path("items");
        assertThat(listed.get(0).path("id").asString()).isEqualTo(funded);
        assertThat(listed.get(0).path("custody").asString()).isEqualTo("chain");
    }
}
