package dev.agentescrow.backend.channel;

import static dev.agentescrow.backend.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.backend.testing.ApiClient;
import dev.agentescrow.backend.testing.BackendITSupport;
import dev.agentescrow.backend.testing.NodeScripts;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.channel.BalanceProof;
import dev.agentescrow.chain.channel.ChannelNonce;
import dev.agentescrow.chain.channel.ChannelSignature;
import dev.agentescrow.chain.channel.ChannelState;
import dev.agentescrow.chain.channel.ChannelTypedDataSigner;
import dev.agentescrow.chain.channel.CooperativeClose;
import dev.agentescrow.chain.channel.PaymentChannel;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Keys;
import tools.jackson.databind.JsonNode;

/**
 * Channels through the service against the shared Hardhat node and PostgreSQL: fresh agents (random
 * keys, ETH by {@code hardhat_setBalance}, tokens from the faucet) open channels with the service's
 * prepared calls, store proofs, close; the watchtower defends an offline agent, and a submission
 * signed before a crash is broadcast as stored. (A reorganisation: {@link ChannelReorgIT}, on a node
 * of its own.)
 */
class ChannelsIT extends BackendITSupport {
    private static final BigInteger DEPOSIT_A = BigInteger.valueOf(1_000_000);
    private static final BigInteger DEPOSIT_B = BigInteger.valueOf(400_000);

    @Autowired
    Channels channels;

    @Autowired
    org.springframework.jdbc.core.JdbcTemplate jdbc;

    @Autowired
    ChannelConfig.WatchtowerKey watchtowerKey;

    @Autowired
    ChannelStore store;

    @Autowired
    dev.agentescrow.backend.audit.AuditLog audit;

    @Autowired
    javax.sql.DataSource dataSource;

    @Autowired
    ProofReceiptRetention receiptRetention;

    private final ChainClient client = CHAIN.client();
    private final PaymentChannelsGateway gateway = CHAIN.deployment().channels(client);
    private final ChannelTypedDataSigner signer = gateway.typedDataSigner();
    private final String token = CHAIN.deployment().token().checksummed();

    /** A fresh agent: its key, its address, its access token. */
    record Agent(Credentials key, Address address, String jwt) {
    }

    private Agent agent(boolean funded) {
        try {
            Credentials key = Credentials.create(Keys.createEcKeyPair());
            Address address = Address.of(key.getAddress());
            client.rawRequest("hardhat_setBalance", List.of(address.hex(), "0x56BC75E2D63100000"));
            ApiClient api = api();
            JsonNode nonce = api.post("/api/v1/auth/nonce", null, null, "{}").json();
            JsonNode signed = siwe(0, nonce, Map.of("privateKey", privateKey(key)));
            ApiClient.Response login = api.post("/api/v1/auth/login", null, null, Map.of("message",
                    signed.path("message").asString(), "signature", signed.path("signature").asString()));
            assertThat(login.status()).as(login.toString()).isEqualTo(200);
            String jwt = login.json().path("accessToken").asString();
            if (funded) {
                ApiClient.Response minted = api.post("/api/v1/faucet", jwt, key(), Map.of("token", token,
                        "amount", "5000000"));
                assertThat(minted.status()).as(minted.toString()).isEqualTo(201);
            }
            return new Agent(key, address, jwt);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String privateKey(Credentials key) {
        return "0x" + String.format("%064x", key.getEcKeyPair().getPrivateKey());
    }

    /** Sends {@code calldata} to {@code to} from the agent's own account and waits for its receipt. */
    private MinedReceipt send(Agent agent, String to, String calldata) {
        PreparedTransaction tx = client.prepare(agent.key(), Address.of(to), calldata,
                client.pendingNonce(agent.address()));
        client.broadcast(tx);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<MinedReceipt> receipt = client.receipt(tx.txHash());
            if (receipt.isPresent()) {
                assertThat(receipt.get().succeeded()).as("transaction " + tx.txHash()).isTrue();
                return receipt.get();
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("transaction " + tx.txHash() + " not mined");
    }

    private MinedReceipt sendPrepared(Agent agent, JsonNode call) {
        if (!call.path("approve").isNull() && !call.path("approve").isMissingNode()) {
            send(agent, call.path("approve").path("to").asString(), call.path("approve").path("calldata").asString());
        }
        return send(agent, call.path("to").asString(), call.path("calldata").asString());
    }

    private JsonNode call(Agent agent, String path, Object body) {
        ApiClient.Response answer = api().post(path, agent.jwt(), null, body);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        return answer.json();
    }

    private JsonNode channel(Agent agent, Bytes32 id) {
        ApiClient.Response answer = api().get("/api/v1/channels/" + id.hex(), agent.jwt());
        return answer.status() == 200 ? answer.json() : null;
    }

    private void awaitState(Agent agent, Bytes32 id, String state) {
        awaitUntil("channel " + id + " " + state, () -> {
            JsonNode c = channel(agent, id);
            return c != null && c.path("state").asString().equals(state);
        });
    }

    /** Opens A -> B through the prepared calls (permit signed by ethers), B accepts; both wait for OPEN. */
    private Bytes32 openThroughTheService(Agent a, Agent b) {
        JsonNode permit = call(a, "/api/v1/channels/calls/open", Map.of("counterparty", b.address().hex(),
                "token", token, "deposit", DEPOSIT_A.toString()));
        assertThat(permit.path("calldata").isNull()).isTrue();
        assertThat(permit.path("typedData").path("primaryType").asString()).isEqualTo("Permit");
        Map<String, Object> input = new HashMap<>();
        input.put("privateKey", privateKey(a.key()));
        input.put("domain", permit.path("typedData").path("domain"));
        input.put("types", permit.path("typedData").path("types"));
        input.put("message", permit.path("typedData").path("message"));
        String signature = NodeScripts.run("sign-typed-data.js", ApiClient.JSON.writeValueAsString(input)).strip();
        JsonNode open = call(a, "/api/v1/channels/calls/open", Map.of("counterparty", b.address().hex(),
                "token", token, "deposit", DEPOSIT_A.toString(),
                "permitDeadline", permit.path("typedData").path("message").path("deadline").asString(),
                "permitSignature", signature));
        Bytes32 id = Bytes32.fromHex(open.path("channelId").asString());
        sendPrepared(a, open);
        awaitState(a, id, "PENDING");
        JsonNode accept = call(b, "/api/v1/channels/" + id.hex() + "/calls/accept",
                Map.of("amount", DEPOSIT_B.toString()));
        sendPrepared(b, accept);
        awaitState(b, id, "OPEN");
        return id;
    }

    private Map<String, Object> proofBody(Bytes32 id, long nonce, long transferred, Credentials key) {
        BalanceProof proof = new BalanceProof(id, ChannelNonce.of(nonce), Amount.of(transferred));
        return Map.of("channelId", id.hex(), "nonce", Long.toString(nonce), "transferred", Long.toString(transferred),
                "signature", signer.sign(proof, key).hex());
    }

    private ApiClient.Response storeProof(Agent who, Bytes32 id, Map<String, Object> body) {
        return api().post("/api/v1/channels/" + id.hex() + "/proofs", who.jwt(), null, body);
    }

    private BigInteger balance(Address who) {
        return new Erc20Token(client, CHAIN.deployment().token()).balanceOf(who).baseUnits();
    }

    private List<String> eventTypes(Agent who, Bytes32 id) {
        List<String> types = new ArrayList<>();
        for (JsonNode e : api().get("/api/v1/events?limit=500", who.jwt()).json().path("items")) {
            if (e.path("objectId").asString().equals(id.hex())) {
                types.add(e.path("type").asString());
            }
        }
        return types;
    }

    @Test
    void agents_open_store_proofs_and_close_cooperatively_with_prepared_calls_and_every_refusal() {
        Agent a = agent(true);
        Agent b = agent(true);
        Agent stranger = agent(false);

        Bytes32 id = openThroughTheService(a, b);
        JsonNode opened = channel(a, id);
        assertThat(opened.path("role").asString()).isEqualTo("A");
        assertThat(opened.path("a").path("deposit").asString()).isEqualTo(DEPOSIT_A.toString());
        assertThat(opened.path("b").path("deposit").asString()).isEqualTo(DEPOSIT_B.toString());
        assertThat(opened.path("movements").size()).isEqualTo(2);
        assertThat(opened.path("ifClosedNow").path("a").asString()).isEqualTo(DEPOSIT_A.toString());

        // 401, another principal's channel, a malformed id
        assertThat(api().get("/api/v1/channels/" + id.hex(), null).status()).isEqualTo(401);
        assertThat(api().get("/api/v1/channels/" + id.hex(), stranger.jwt()).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/channels/0x1234", a.jwt()).status()).isEqualTo(404);
        assertThat(storeProof(stranger, id, proofBody(id, 1, 10, a.key())).status()).isEqualTo(404);
        assertThat(api().get("/api/v1/channels", a.jwt()).json().path("items").get(0).path("id").asString())
                .isEqualTo(id.hex());
        assertThat(api().get("/api/v1/channels", stranger.jwt()).json().path("items").size()).isZero();

        // A pays B: B stores A's proofs
        ApiClient.Response first = storeProof(b, id, proofBody(id, 1, 100_000, a.key()));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);
        Map<String, Object> newest = proofBody(id, 3, 300_000, a.key());
        assertThat(storeProof(b, id, newest).status()).isEqualTo(201);
        ApiClient.Response replay = storeProof(b, id, newest);
        assertThat(replay.status()).isEqualTo(200);
        assertThat(replay.json().path("replayed").asBoolean()).isTrue();
        ApiClient.Response overtaken = storeProof(b, id, proofBody(id, 1, 100_000, a.key()));
        assertThat(overtaken.status()).as("a proof stored, then overtaken, answers its replay with what was stored")
                .isEqualTo(200);
        assertThat(overtaken.json().path("replayed").asBoolean()).isTrue();
        assertThat(overtaken.json().path("proof")).isEqualTo(first.json().path("proof"));
        assertThat(storeProof(b, id, proofBody(id, 2, 200_000, a.key())).code()).isEqualTo("CHANNEL_PROOF_STALE");
        assertThat(storeProof(b, id, proofBody(id, 4, 250_000, a.key())).code()).isEqualTo("CHANNEL_PROOF_STALE");
        ApiClient.Response forged = storeProof(b, id, proofBody(id, 5, 500_000, stranger.key()));
        assertThat(forged.status()).isEqualTo(422);
        assertThat(forged.code()).isEqualTo("CHANNEL_PROOF_INVALID_SIGNATURE");
        ApiClient.Response own = storeProof(a, id, proofBody(id, 5, 500_000, a.key()));
        assertThat(own.code()).as("a participant stores the counterparty's proof, not its own")
                .isEqualTo("CHANNEL_PROOF_INVALID_SIGNATURE");
        ApiClient.Response over = storeProof(b, id, proofBody(id, 6, DEPOSIT_A.longValue() + 1, a.key()));
        assertThat(over.code()).isEqualTo("CHANNEL_PROOF_EXCEEDS_DEPOSIT");
        Bytes32 other = Bytes32.fromHex("0x" + "ab".repeat(32));
        ApiClient.Response crossNamed = storeProof(b, id, proofBody(other, 7, 400_000, a.key()));
        assertThat(crossNamed.code()).isEqualTo("CHANNEL_PROOF_WRONG_CHANNEL");
        Map<String, Object> cross = new HashMap<>(proofBody(other, 7, 400_000, a.key()));
        cross.put("channelId", id.hex());
        assertThat(storeProof(b, id, cross).code()).isEqualTo("CHANNEL_PROOF_INVALID_SIGNATURE");
        assertThat(storeProof(b, id, Map.of("channelId", id.hex(), "nonce", "0", "transferred", "1",
                "signature", "0x12")).code()).isEqualTo("VALIDATION_FAILED");
        // B pays A a little: A stores B's proof
        assertThat(storeProof(a, id, proofBody(id, 1, 50_000, b.key())).status()).isEqualTo(201);

        JsonNode view = channel(b, id);
        assertThat(view.path("proofs").path("sentByA").path("nonce").asString()).isEqualTo("3");
        assertThat(view.path("proofs").path("sentByA").path("transferred").asString()).isEqualTo("300000");
        assertThat(view.path("proofs").path("sentByB").path("transferred").asString()).isEqualTo("50000");
        BigInteger expectA = DEPOSIT_A.subtract(BigInteger.valueOf(300_000)).add(BigInteger.valueOf(50_000));
        BigInteger expectB = DEPOSIT_B.add(BigInteger.valueOf(300_000)).subtract(BigInteger.valueOf(50_000));
        assertThat(view.path("ifClosedNow").path("a").asString()).isEqualTo(expectA.toString());
        assertThat(view.path("ifClosedNow").path("b").asString()).isEqualTo(expectB.toString());
        assertThat(view.path("watchtower").path("registered").asBoolean()).isTrue();
        assertThat(view.path("watchtower").path("active").asBoolean()).isTrue();
        assertThat(view.path("watchtower").path("defended").asBoolean()).isEqualTo(
                view.path("watchtower").path("enabled").asBoolean());

        // wrong state for a call, 404 for a stranger's call
        ApiClient.Response settleEarly = api().post("/api/v1/channels/" + id.hex() + "/calls/settle", b.jwt(), null, "{}");
        assertThat(settleEarly.status()).isEqualTo(409);
        assertThat(settleEarly.code()).isEqualTo("CHANNEL_INVALID_STATE");
        assertThat(api().post("/api/v1/channels/" + id.hex() + "/calls/close", stranger.jwt(), null, "{}").status())
                .isEqualTo(404);

        // registration: idempotent replay, opt-out and back
        String registrationKey = key();
        ApiClient.Response optOut = api().post("/api/v1/channels/" + id.hex() + "/register", a.jwt(), registrationKey,
                Map.of("watchtower", false));
        assertThat(optOut.status()).as(optOut.toString()).isEqualTo(200);
        assertThat(optOut.json().path("watchtower").path("enabled").asBoolean()).isFalse();
        assertThat(optOut.json().path("watchtower").path("defended").asBoolean()).isFalse();
        ApiClient.Response again = api().post("/api/v1/channels/" + id.hex() + "/register", a.jwt(), registrationKey,
                Map.of("watchtower", false));
        assertThat(again.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(api().post("/api/v1/channels/" + id.hex() + "/register", stranger.jwt(), key(), "{}").status())
                .isEqualTo(404);

        // cooperative close with the totals from the newest proofs, both sign, B sends it
        JsonNode unsigned = call(a, "/api/v1/channels/" + id.hex() + "/calls/cooperative-close", "{}");
        JsonNode message = unsigned.path("typedData").path("message");
        assertThat(message.path("totalWithdrawnA").asString()).isEqualTo(expectA.toString());
        CooperativeClose close = new CooperativeClose(id, Amount.parse(message.path("totalWithdrawnA").asString()),
                Amount.parse(message.path("totalWithdrawnB").asString()),
                Instant.ofEpochSecond(Long.parseLong(message.path("expiry").asString())));
        ChannelSignature sigA = signer.sign(close, a.key());
        ChannelSignature sigB = signer.sign(close, b.key());
        Map<String, Object> signedOrder = Map.of("totalWithdrawnA", message.path("totalWithdrawnA").asString(),
                "totalWithdrawnB", message.path("totalWithdrawnB").asString(), "expiry",
                message.path("expiry").asString(), "signatureA", sigA.hex(), "signatureB", sigB.hex());
        ApiClient.Response swapped = api().post("/api/v1/channels/" + id.hex() + "/calls/cooperative-close", a.jwt(),
                null, Map.of("totalWithdrawnA", message.path("totalWithdrawnA").asString(),
                        "totalWithdrawnB", message.path("totalWithdrawnB").asString(), "expiry",
                        message.path("expiry").asString(), "signatureA", sigB.hex(), "signatureB", sigA.hex()));
        assertThat(swapped.code()).isEqualTo("CHANNEL_SIGNATURE_INVALID");
        JsonNode signedCall = call(a, "/api/v1/channels/" + id.hex() + "/calls/cooperative-close", signedOrder);
        BigInteger beforeA = balance(a.address());
        BigInteger beforeB = balance(b.address());
        send(b, signedCall.path("to").asString(), signedCall.path("calldata").asString());
        assertThat(balance(a.address()).subtract(beforeA)).isEqualTo(expectA);
        assertThat(balance(b.address()).subtract(beforeB)).isEqualTo(expectB);
        awaitState(a, id, "SETTLED");
        JsonNode settled = channel(a, id);
        assertThat(settled.path("settled").path("a").asString()).isEqualTo(expectA.toString());
        assertThat(storeProof(b, id, proofBody(id, 9, 400_000, a.key())).code()).isEqualTo("CHANNEL_INVALID_STATE");
        awaitUntil("the channel's events in A's feed", () -> eventTypes(a, id).containsAll(List.of("channel.opened",
                "channel.accepted", "channel.settled")));
        JsonNode codes = api().get("/v3/api-docs", null).json().path("x-error-codes");
        for (String code : List.of("CHANNEL_PROOF_STALE", "CHANNEL_PROOF_INVALID_SIGNATURE", "CHANNEL_INVALID_STATE",
                "NOT_FOUND", "CHANNEL_PROOFS_BUSY", "CHANNEL_PROOFS_NOT_STORED")) {
            assertThat(codes.path(code).asString()).as(code).isNotBlank();
        }
    }

    private ApiClient.Response storeProofs(Agent who, Bytes32 id, String idempotencyKey, List<?> proofs) {
        return api().post("/api/v1/channels/" + id.hex() + "/proofs/batch", who == null ? null : who.jwt(),
                idempotencyKey, Map.of("proofs", proofs));
    }

    private static List<Integer> statuses(ApiClient.Response answer) {
        List<Integer> out = new ArrayList<>();
        answer.json().path("items").forEach(i -> out.add(i.path("status").asInt()));
        return out;
    }

    @Test
    void a_batch_of_proofs_answers_each_in_request_order_as_the_single_endpoint_and_replays_alike() {
        Agent a = agent(true);
        Agent b = agent(true);
        Agent stranger = agent(false);
        Bytes32 id = openThroughTheService(a, b);
        ApiClient.Response first = storeProof(b, id, proofBody(id, 1, 100_000, a.key()));
        assertThat(first.status()).as(first.toString()).isEqualTo(201);

        Bytes32 other = Bytes32.fromHex("0x" + "cd".repeat(32));
        List<Map<String, Object>> batch = List.of(
                proofBody(id, 6, 600_000, a.key()),                        // newest: stored
                proofBody(id, 1, 100_000, a.key()),                        // stored before: replayed
                proofBody(id, 2, 50_000, a.key()),                         // a total below the stored one: stale
                proofBody(id, 4, 400_000, stranger.key()),                 // forged
                proofBody(id, 5, DEPOSIT_A.longValue() + 1, a.key()),      // over the deposit
                proofBody(other, 7, 700_000, a.key()),                     // names another channel
                proofBody(id, 3, 300_000, a.key()));                       // stored (before 6: nonce order)
        String batchKey = key();
        ApiClient.Response answer = storeProofs(b, id, batchKey, batch);
        assertThat(answer.status()).as(answer.toString()).isEqualTo(200);
        assertThat(statuses(answer)).containsExactly(201, 200, 409, 422, 422, 422, 201);
        JsonNode items = answer.json().path("items");
        assertThat(items.size()).isEqualTo(batch.size());
        assertThat(items.get(0).path("replayed").asBoolean()).isFalse();
        assertThat(items.get(0).path("channelId").asString()).isEqualTo(id.hex());
        assertThat(items.get(0).path("proof").path("nonce").asString()).isEqualTo("6");
        assertThat(items.get(1).path("replayed").asBoolean()).isTrue();
        assertThat(items.get(1).path("proof")).as("the replay answers what was stored")
                .isEqualTo(first.json().path("proof"));
        assertThat(items.get(2).path("code").asString()).isEqualTo("CHANNEL_PROOF_STALE");
        assertThat(items.get(2).has("proof")).isFalse();
        assertThat(items.get(3).path("code").asString()).isEqualTo("CHANNEL_PROOF_INVALID_SIGNATURE");
        assertThat(items.get(4).path("code").asString()).isEqualTo("CHANNEL_PROOF_EXCEEDS_DEPOSIT");
        assertThat(items.get(5).path("code").asString()).isEqualTo("CHANNEL_PROOF_WRONG_CHANNEL");
        assertThat(items.get(6).path("proof").path("nonce").asString()).isEqualTo("3");
        assertThat(items.get(6).path("proof").path("transferred").asString()).isEqualTo("300000");

        // the stored state is what the items say: the newest is nonce 6, and 1, 3 and 6 are receipts
        JsonNode view = channel(b, id);
        assertThat(view.path("proofs").path("sentByA")).isEqualTo(items.get(0).path("proof"));
        assertThat(view.path("proofs").path("sentByB").isNull()).isTrue();
        assertThat(receiptCount(id)).isEqualTo(3);
        assertThat(storeProof(b, id, proofBody(id, 3, 300_000, a.key())).status())
                .as("a proof a batch stored replays on the single endpoint").isEqualTo(200);

        // the same batch again (no key): each proof answers as the single endpoint would now
        ApiClient.Response again = storeProofs(b, id, null, batch);
        assertThat(again.status()).isEqualTo(200);
        assertThat(statuses(again)).containsExactly(200, 200, 409, 422, 422, 422, 200);
        for (int i : List.of(0, 1, 6)) {
            assertThat(again.json().path("items").get(i).path("replayed").asBoolean()).isTrue();
            assertThat(again.json().path("items").get(i).path("proof")).isEqualTo(items.get(i).path("proof"));
        }
        // with the same Idempotency-Key: the first answer again
        ApiClient.Response replayedKey = storeProofs(b, id, batchKey, batch);
        assertThat(replayedKey.header("Idempotent-Replayed")).isEqualTo("true");
        assertThat(replayedKey.json()).isEqualTo(answer.json());
        assertThat(receiptCount(id)).isEqualTo(3);

        // the other direction, A storing B's proofs: registers A (as the single endpoint does)
        assertThat(statuses(storeProofs(a, id, null, List.of(proofBody(id, 1, 10_000, b.key()),
                proofBody(id, 2, 20_000, b.key()))))).containsExactly(201, 201);
        assertThat(channel(a, id).path("proofs").path("sentByB").path("nonce").asString()).isEqualTo("2");
        assertThat(channels.registration(id, a.address())).isPresent();

        // refusals of the whole request, as the single endpoint's
        ApiClient.Response strangers = storeProofs(stranger, id, null, List.of(proofBody(id, 8, 800_000, a.key())));
        assertThat(strangers.status()).isEqualTo(404);
        assertThat(strangers.code()).isEqualTo("NOT_FOUND");
        assertThat(storeProofs(null, id, null, List.of(proofBody(id, 8, 800_000, a.key()))).status()).isEqualTo(401);
        ApiClient.Response empty = storeProofs(b, id, null, List.of());
        assertThat(empty.status()).isEqualTo(400);
        assertThat(empty.code()).isEqualTo("VALIDATION_FAILED");
        assertThat(empty.json().path("errors").get(0).path("field").asString()).isEqualTo("proofs");
        List<Map<String, Object>> tooMany = new ArrayList<>();
        Map<String, Object> one = proofBody(id, 8, 800_000, a.key());
        for (int i = 0; i < 101; i++) {
            tooMany.add(one);
        }
        ApiClient.Response oversize = storeProofs(b, id, null, tooMany);
        assertThat(oversize.status()).isEqualTo(400);
        assertThat(oversize.json().path("errors").get(0).path("field").asString()).isEqualTo("proofs");
        assertThat(oversize.json().path("errors").get(0).path("code").asString()).isEqualTo("TOO_MANY");
        ApiClient.Response malformed = storeProofs(b, id, null, List.of(one, Map.of("channelId", id.hex(),
                "nonce", "0", "transferred", "1", "signature", "0x12")));
        assertThat(malformed.status()).isEqualTo(400);
        List<String> fields = new ArrayList<>();
        malformed.json().path("errors").forEach(e -> fields.add(e.path("field").asString()));
        assertThat(fields).contains("proofs[1].nonce", "proofs[1].signature");
        assertThat(channel(b, id).path("proofs").path("sentByA").path("nonce").asString())
                .as("nothing of a refused request is stored").isEqualTo("6");

        // one new proof repeated in a batch: written once, the repeats answer as replays of it;
        // a batch of exactly 100 (the limit) is taken
        Map<String, Object> nine = proofBody(id, 9, 900_000, a.key());
        ApiClient.Response repeated = storeProofs(b, id, null, List.of(nine, nine, nine));
        assertThat(statuses(repeated)).as(repeated.toString()).containsExactly(201, 200, 200);
        assertThat(repeated.json().path("items").get(2).path("proof")).isEqualTo(
                repeated.json().path("items").get(0).path("proof"));
        assertThat(receiptCount(id)).as("three receipts before, one for nonce 9 (and 1, 2 of the other direction)")
                .isEqualTo(6);
        List<Map<String, Object>> hundred = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            hundred.add(nine);
        }
        ApiClient.Response full = storeProofs(b, id, null, hundred);
        assertThat(full.status()).as(full.toString()).isEqualTo(200);
        assertThat(full.json().path("items").size()).isEqualTo(100);
        assertThat(statuses(full)).containsOnly(200);
        assertThat(receiptCount(id)).isEqualTo(6);
        JsonNode docs = api().get("/v3/api-docs", null).json();
        assertThat(docs.path("paths").path("/api/v1/channels/{id}/proofs/batch").path("post").isMissingNode()).isFalse();
        assertThat(docs.path("x-error-codes").path("CHANNEL_PROOFS_NOT_STORED").asString()).isNotBlank();
    }

    @Test
    void the_watchtower_defends_an_offline_agent_against_a_stale_close_and_settlement_pays_its_newest_proof() {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 defended = openThroughTheService(a, b);
        Address watchtower = Address.of(channel(b, defended).path("watchtower").path("address").asString());
        client.rawRequest("hardhat_setBalance", List.of(watchtower.hex(), "0x56BC75E2D63100000"));
        Bytes32 optedOut = openThroughTheService(a, b);
        // A pays B in both channels; B stores A's newest proof and goes offline
        for (long n = 1; n <= 5; n++) {
            Map<String, Object> proof = proofBody(defended, n, n * 100_000, a.key());
            assertThat(storeProof(b, defended, proof).status()).isEqualTo(201);
        }
        assertThat(storeProof(b, optedOut, proofBody(optedOut, 2, 200_000, a.key())).status()).isEqualTo(201);
        assertThat(api().post("/api/v1/channels/" + optedOut.hex() + "/register", b.jwt(), key(),
                Map.of("watchtower", false)).status()).isEqualTo(200);

        // A closes both without B's transfers to it and with none of its own: its payments to B unproven
        send(a, gateway.address().hex(), ChannelCalls.close(optedOut, BigInteger.ZERO, BigInteger.ZERO, new byte[0]));
        send(a, gateway.address().hex(), ChannelCalls.close(defended, BigInteger.ZERO, BigInteger.ZERO, new byte[0]));

        awaitUntil("the watchtower's proof on chain", () ->
                gateway.channel(defended).a().transferred().baseUnits().equals(BigInteger.valueOf(500_000)));
        awaitUntil("the submission recorded as SUCCEEDED", () -> {
            JsonNode submissions = channel(b, defended).path("watchtower").path("submissions");
            return submissions.size() == 1 && submissions.get(0).path("state").asString().equals("SUCCEEDED");
        });
        awaitUntil("B told: channel.defended and channel.challenged", () ->
                eventTypes(b, defended).containsAll(List.of("channel.closed", "channel.challenged", "channel.defended")));
        JsonNode challenged = null;
        for (JsonNode e : api().get("/api/v1/events?limit=500", b.jwt()).json().path("items")) {
            if (e.path("objectId").asString().equals(defended.hex()) && e.path("type").asString().equals("channel.challenged")) {
                challenged = e;
            }
        }
        assertThat(challenged.path("data").path("submitter").asString()).isEqualTo(watchtower.checksummed());
        assertThat(gateway.channel(optedOut).a().transferred().baseUnits()).as("the opted-out channel is not defended")
                .isZero();
        assertThat(channel(b, optedOut).path("watchtower").path("submissions").size()).isZero();
        String prometheus = api().get("/actuator/prometheus", null).raw().body();
        assertThat(prometheus).contains("agentescrow_channel_watchtower_submissions_total{")
                .contains("agentescrow_channels_active").contains("agentescrow_channel_watchtower_gas_total");

        // after the challenge period B (back online) settles: it receives what its newest proof says
        PaymentChannel onChain = gateway.channel(defended);
        long wait = Duration.between(Instant.ofEpochSecond(latestTimestamp()), onChain.closesAt().orElseThrow())
                .toSeconds() + 1;
        client.rawRequest("evm_increaseTime", List.of(Math.max(wait, 1)));
        client.rawRequest("evm_mine", List.of());
        BigInteger beforeA = balance(a.address());
        BigInteger beforeB = balance(b.address());
        JsonNode settle = call(b, "/api/v1/channels/" + defended.hex() + "/calls/settle", "{}");
        send(b, settle.path("to").asString(), settle.path("calldata").asString());
        assertThat(balance(b.address()).subtract(beforeB)).isEqualTo(DEPOSIT_B.add(BigInteger.valueOf(500_000)));
        assertThat(balance(a.address()).subtract(beforeA)).isEqualTo(DEPOSIT_A.subtract(BigInteger.valueOf(500_000)));
        assertThat(gateway.channel(defended).state()).isEqualTo(ChannelState.SETTLED);
        awaitState(b, defended, "SETTLED");
        awaitUntil("channel.settled in B's feed", () -> eventTypes(b, defended).contains("channel.settled"));
    }

    @Test
    void a_submission_signed_before_a_crash_is_broadcast_as_stored_and_never_twice() {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        Map<String, Object> proof = proofBody(id, 4, 400_000, a.key());
        assertThat(storeProof(b, id, proof).status()).isEqualTo(201);
        assertThat(api().post("/api/v1/channels/" + id.hex() + "/register", b.jwt(), key(),
                Map.of("watchtower", false)).status()).isEqualTo(200);
        send(a, gateway.address().hex(), ChannelCalls.close(id, BigInteger.ZERO, BigInteger.ZERO, new byte[0]));
        awaitState(b, id, "CLOSING");

        // the state a crash leaves between "signed and stored" and "broadcast": a SIGNED row, bytes never sent
        Credentials tower = watchtowerKey.credentials().orElseThrow();
        Address towerAddress = Address.of(tower.getAddress());
        client.rawRequest("hardhat_setBalance", List.of(towerAddress.hex(), "0x56BC75E2D63100000"));
        long nonceBefore = client.minedNonce(towerAddress);
        PreparedTransaction stored = client.prepare(tower, gateway.address(), ChannelCalls.updateBalanceProof(id,
                a.address(), BigInteger.valueOf(4), BigInteger.valueOf(400_000),
                ChannelSignature.fromHex((String) proof.get("signature")).bytes()), client.pendingNonce(towerAddress));
        jdbc.update("INSERT INTO backend.channel_watchtower_submissions (channel_id, signer, defended, nonce, transferred,"
                        + " state, tx_hash, tx_nonce, raw_tx, created_at, updated_at)"
                        + " VALUES (?, ?, ?, 4, 400000, 'SIGNED', ?, ?, ?, now(), now())", id.hex(), a.address().hex(),
                b.address().hex(), stored.txHash().value(), stored.nonce(), stored.rawTransactionHex());

        // the agent turns the watchtower on: the service "restarts" its work from the rows
        assertThat(api().post("/api/v1/channels/" + id.hex() + "/register", b.jwt(), key(),
                Map.of("watchtower", true)).status()).isEqualTo(200);
        awaitUntil("the stored submission mined", () -> {
            JsonNode submissions = channel(b, id).path("watchtower").path("submissions");
            return submissions.size() == 1 && submissions.get(0).path("state").asString().equals("SUCCEEDED");
        });
        JsonNode submission = channel(b, id).path("watchtower").path("submissions").get(0);
        assertThat(submission.path("txHash").asString()).isEqualTo(stored.txHash().value());
        assertThat(client.receipt(stored.txHash()).orElseThrow().succeeded()).isTrue();
        assertThat(gateway.channel(id).a().transferred().baseUnits()).isEqualTo(BigInteger.valueOf(400_000));
        assertThat(client.minedNonce(towerAddress)).as("one transaction of the watchtower, not two")
                .isEqualTo(nonceBefore + 1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM backend.channel_watchtower_submissions WHERE channel_id = ?",
                Long.class, id.hex())).isEqualTo(1L);
    }

    @Test
    void a_withdrawal_and_a_top_up_through_prepared_calls_are_paid_and_indexed() {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        String path = "/api/v1/channels/" + id.hex() + "/calls/";

        JsonNode unsigned = call(b, path + "withdraw", Map.of("totalWithdrawn", "150000"));
        assertThat(unsigned.path("calldata").isNull()).isTrue();
        assertThat(unsigned.path("signers").size()).isEqualTo(2);
        JsonNode message = unsigned.path("typedData").path("message");
        assertThat(message.path("participant").asString()).isEqualTo(b.address().checksummed());
        dev.agentescrow.chain.channel.Withdrawal withdrawal = new dev.agentescrow.chain.channel.Withdrawal(id,
                b.address(), Amount.of(150_000), Instant.ofEpochSecond(Long.parseLong(message.path("expiry").asString())));
        Map<String, Object> signedOrder = Map.of("totalWithdrawn", "150000", "expiry", message.path("expiry").asString(),
                "signatureA", signer.sign(withdrawal, a.key()).hex(), "signatureB", signer.sign(withdrawal, b.key()).hex());
        JsonNode signed = call(b, path + "withdraw", signedOrder);
        BigInteger before = balance(b.address());
        send(b, signed.path("to").asString(), signed.path("calldata").asString());
        assertThat(balance(b.address()).subtract(before)).isEqualTo(BigInteger.valueOf(150_000));
        assertThat(api().post(path + "withdraw", b.jwt(), null, Map.of("totalWithdrawn", "99999999999")).code())
                .isEqualTo("CHANNEL_WITHDRAWAL_EXCEEDS_FUNDS");

        sendPrepared(a, call(a, path + "deposit", Map.of("amount", "7000")));
        awaitUntil("the withdrawal and the top-up indexed", () -> {
            JsonNode c = channel(a, id);
            return c.path("b").path("withdrawn").asString().equals("150000")
                    && c.path("a").path("deposit").asString().equals(DEPOSIT_A.add(BigInteger.valueOf(7_000)).toString());
        });
        JsonNode movements = channel(a, id).path("movements");
        assertThat(movements.size()).isEqualTo(4);
        assertThat(movements.get(2).path("kind").asString()).isEqualTo("WITHDRAWAL");
        assertThat(api().post(path + "claim", a.jwt(), null, "{}").code()).isEqualTo("CHANNEL_INVALID_STATE");
        awaitUntil("channel.withdrawn and channel.deposited in A's feed", () -> eventTypes(a, id)
                .containsAll(List.of("channel.withdrawn", "channel.deposited")));
    }

    @Test
    void storing_proofs_is_one_verified_write_each_measured_on_one_channel() throws Exception {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        int count = 1_000;
        int threads = 4;
        List<BalanceProof> proofs = new ArrayList<>();
        List<ChannelSignature> signatures = new ArrayList<>();
        for (int n = 1; n <= 2 * count; n++) {
            BalanceProof proof = new BalanceProof(id, ChannelNonce.of(n), Amount.of(n));
            proofs.add(proof);
            signatures.add(signer.sign(proof, a.key()));
        }
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            Channels.ProofResult result = channels.storeProof(id, b.address(), proofs.get(i).nonce(),
                    proofs.get(i).transferred(), signatures.get(i));
            assertThat(result.created()).as(result.code() + " " + result.message()).isTrue();
        }
        double sequential = (System.nanoTime() - start) / 1e9;
        // the next 1,000 from 4 threads at once, each in rising order: a proof overtaken by a newer one is stale
        java.util.concurrent.atomic.AtomicInteger created = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger stale = new java.util.concurrent.atomic.AtomicInteger();
        start = System.nanoTime();
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(threads)) {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = count + t;
                done.add(pool.submit(() -> {
                    for (int i = first; i < 2 * count; i += threads) {
                        Channels.ProofResult result = channels.storeProof(id, b.address(), proofs.get(i).nonce(),
                                proofs.get(i).transferred(), signatures.get(i));
                        (result.created() ? created : stale).incrementAndGet();
                        assertThat(result.created() || "CHANNEL_PROOF_STALE".equals(result.code())).isTrue();
                    }
                }));
            }
            for (var f : done) {
                f.get();
            }
        }
        double concurrent = (System.nanoTime() - start) / 1e9;
        System.out.printf("{\"bench\":\"channel_proofs\",\"proofs\":%d,\"sequential_per_second\":%.0f,"
                        + "\"threads\":%d,\"concurrent_per_second\":%.0f,\"concurrent_stored\":%d,\"concurrent_stale\":%d}%n",
                count, count / sequential, threads, count / concurrent, created.get(), stale.get());
        assertThat(created.get() + stale.get()).isEqualTo(count);
        assertThat(channels.proof(id, a.address()).orElseThrow().nonce()).isEqualTo(BigInteger.valueOf(2 * count));
    }

    /** A proof signed by {@code key}, stored through the proof store as {@code caller}. */
    private Channels.ProofResult store(Channels through, Bytes32 id, Address caller, long nonce, long transferred,
                                       Credentials key) {
        BalanceProof proof = new BalanceProof(id, ChannelNonce.of(nonce), Amount.of(transferred));
        return through.storeProof(id, caller, proof.nonce(), proof.transferred(), signer.sign(proof, key));
    }

    /** Runs every task at once on its own thread; their results in the tasks' order. */
    private static <T> List<T> allAtOnce(List<java.util.concurrent.Callable<T>> tasks) throws Exception {
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<T>> futures = pool.invokeAll(tasks);
            List<T> out = new ArrayList<>();
            for (var f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }

    @Test
    void receipts_of_replaced_proofs_go_after_the_retention_and_the_newest_still_answers_its_replay() throws Exception {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        Map<String, Object> first = proofBody(id, 1, 100_000, a.key());
        Map<String, Object> newest = proofBody(id, 3, 300_000, a.key());
        Map<String, Object> fromB = proofBody(id, 1, 50_000, b.key());
        assertThat(storeProof(b, id, first).status()).isEqualTo(201);
        assertThat(storeProof(b, id, proofBody(id, 2, 200_000, a.key())).status()).isEqualTo(201);
        ApiClient.Response stored = storeProof(b, id, newest);
        assertThat(stored.status()).isEqualTo(201);
        assertThat(storeProof(a, id, fromB).status()).isEqualTo(201);
        assertThat(receiptCount(id)).isEqualTo(4);
        assertThat(storeProof(b, id, first).status()).as("replaced, its receipt answers").isEqualTo(200);

        jdbc.update("UPDATE backend.channel_proof_receipts SET stored_at = stored_at - interval '2 days'"
                + " WHERE channel_id = ?", id.hex());
        assertThat(receiptRetention.deleteOlderThan(Instant.now().minus(Duration.ofDays(1))))
                .as("this channel's four receipts, aged; every other test's are younger").isEqualTo(4);
        assertThat(receiptCount(id)).isZero();

        ApiClient.Response replay = storeProof(b, id, newest);
        assertThat(replay.status()).as("the newest of its direction answers its replay without a receipt").isEqualTo(200);
        assertThat(replay.json().path("replayed").asBoolean()).isTrue();
        assertThat(replay.json().path("proof")).isEqualTo(stored.json().path("proof"));
        assertThat(storeProof(a, id, fromB).status()).as("so does the other direction's").isEqualTo(200);
        ApiClient.Response late = storeProof(b, id, first);
        assertThat(late.status()).as("a replaced proof replayed after the retention: stale").isEqualTo(409);
        assertThat(late.code()).isEqualTo("CHANNEL_PROOF_STALE");
        assertThat(channel(b, id).path("proofs").path("sentByA").path("nonce").asString()).isEqualTo("3");

        assertThat(storeProof(b, id, proofBody(id, 4, 400_000, a.key())).status()).isEqualTo(201);
        assertThat(receiptRetention.deleteOlderThan(Instant.now().minus(Duration.ofDays(1)))).isZero();
        assertThat(receiptCount(id)).as("a receipt younger than the retention stays").isEqualTo(1);

        // another instance running the retention (its advisory lock held): this one deletes nothing meanwhile
        jdbc.update("UPDATE backend.channel_proof_receipts SET stored_at = stored_at - interval '2 days'"
                + " WHERE channel_id = ?", id.hex());
        try (java.sql.Connection other = dataSource.getConnection()) {
            other.createStatement().execute("SELECT pg_advisory_lock(" + ProofReceiptRetention.LOCK_KEY + ")");
            assertThat(receiptRetention.deleteOlderThan(Instant.now().minus(Duration.ofDays(1)))).isZero();
            assertThat(receiptCount(id)).isEqualTo(1);
            other.createStatement().execute("SELECT pg_advisory_unlock(" + ProofReceiptRetention.LOCK_KEY + ")");
        }
        assertThat(receiptRetention.deleteOlderThan(Instant.now().minus(Duration.ofDays(1)))).isEqualTo(1);
        assertThat(receiptCount(id)).isZero();
    }

    @Test
    void a_replay_reads_its_receipt_by_one_probe_however_many_receipts_the_channel_keeps() {
        Bytes32 id = Bytes32.fromHex("0x" + "5e".repeat(32));
        Address signer = Address.of("0x00000000000000000000000000000000000a11ce");
        jdbc.update("INSERT INTO backend.channel_proof_receipts (channel_id, digest, signer, nonce, transferred,"
                + " signature, stored_by, stored_at) SELECT ?, '0x' || lpad(to_hex(n), 64, '0'), ?, n, n, '0x' || repeat('ab', 65),"
                + " ?, now() FROM generate_series(1, 20000) n", id.hex(), signer.hex(), signer.hex());
        try {
            jdbc.execute("ANALYZE backend.channel_proof_receipts");
            String digest = "0x" + String.format("%064x", 12_345);
            List<ChannelStore.StoredProof> found = store.receipts(id, java.util.Set.of(signer),
                    java.util.Set.of(Bytes32.fromHex(digest)));
            assertThat(found).singleElement().extracting(ChannelStore.StoredProof::nonce).isEqualTo(BigInteger.valueOf(12_345));
            String plan = String.join("\n", jdbc.query(con -> {
                var s = con.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + ChannelStore.RECEIPTS);
                s.setString(1, id.hex());
                s.setArray(2, con.createArrayOf("text", new Object[] {signer.hex()}));
                s.setArray(3, con.createArrayOf("text", new Object[] {digest}));
                return s;
            }, (rs, n) -> rs.getString(1)));
            java.util.regex.Matcher buffers = java.util.regex.Pattern.compile("Buffers: shared hit=(\\d+)").matcher(plan);
            assertThat(buffers.find()).as(plan).isTrue();
            assertThat(Integer.parseInt(buffers.group(1))).as("one index probe and its row, not the channel's 20,000: %s", plan)
                    .isLessThanOrEqualTo(10);
        } finally {
            jdbc.update("DELETE FROM backend.channel_proof_receipts WHERE channel_id = ?", id.hex());
        }
    }

    private long receiptCount(Bytes32 id) {
        return jdbc.queryForObject("SELECT count(*) FROM backend.channel_proof_receipts WHERE channel_id = ?", Long.class,
                id.hex());
    }

    @Test
    void concurrent_proofs_on_one_channel_keep_the_newest_and_every_answer_is_exact_and_replays_alike() throws Exception {
        Agent a = agent(true);
        Agent b = agent(true);
        Agent stranger = agent(false);
        Bytes32 id = openThroughTheService(a, b);
        // both directions at once, out of order, each proof twice, with forged and over-deposit ones among them
        int n = 300;
        List<long[]> orders = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            orders.add(new long[] {0, i, i * 1_000});   // A's proofs, stored by B
            orders.add(new long[] {0, i, i * 1_000});   // the same again
            orders.add(new long[] {1, i, i * 500});     // B's proofs, stored by A
        }
        for (long i = 1; i <= 20; i++) {
            orders.add(new long[] {2, n + i, i});                                  // forged (a stranger's key)
            orders.add(new long[] {3, n + i, DEPOSIT_A.longValue() + 200_000 + i}); // beyond A's deposit and receipts
        }
        java.util.Collections.shuffle(orders, new java.util.Random(14));
        List<java.util.concurrent.Callable<Channels.ProofResult>> tasks = new ArrayList<>();
        for (long[] o : orders) {
            tasks.add(() -> switch ((int) o[0]) {
                case 0, 3 -> store(channels, id, b.address(), o[1], o[2], a.key());
                case 1 -> store(channels, id, a.address(), o[1], o[2], b.key());
                default -> store(channels, id, b.address(), o[1], o[2], stranger.key());
            });
        }
        List<Channels.ProofResult> results = allAtOnce(tasks);

        Map<String, Channels.ProofResult> createdByKey = new HashMap<>();
        int created = 0;
        for (int i = 0; i < orders.size(); i++) {
            long[] o = orders.get(i);
            Channels.ProofResult r = results.get(i);
            switch ((int) o[0]) {
                case 2 -> assertThat(r.code()).isEqualTo("CHANNEL_PROOF_INVALID_SIGNATURE");
                case 3 -> assertThat(r.code()).isEqualTo("CHANNEL_PROOF_EXCEEDS_DEPOSIT");
                default -> {
                    assertThat(r.ok() || "CHANNEL_PROOF_STALE".equals(r.code())).as(r.code() + " " + r.message()).isTrue();
                    String key = o[0] + ":" + o[1];
                    if (r.created()) {
                        created++;
                        assertThat(createdByKey.put(key, r)).as("proof " + key + " created once").isNull();
                        assertThat(r.proof().nonce()).isEqualTo(BigInteger.valueOf(o[1]));
                    }
                }
            }
        }
        // the same proof twice: at most one 201, and a 200 only for a proof that was created
        for (int i = 0; i < orders.size(); i++) {
            long[] o = orders.get(i);
            Channels.ProofResult r = results.get(i);
            if (o[0] <= 1 && r.ok() && !r.created()) {
                Channels.ProofResult first = createdByKey.get(o[0] + ":" + o[1]);
                assertThat(first).as("a replay answer for a proof that was stored").isNotNull();
                assertThat(r.proof()).isEqualTo(first.proof());
            }
        }
        // the newest of each direction kept; every accepted proof has its receipt
        assertThat(channels.proof(id, a.address()).orElseThrow().nonce()).isEqualTo(BigInteger.valueOf(n));
        assertThat(channels.proof(id, b.address()).orElseThrow().nonce()).isEqualTo(BigInteger.valueOf(n));
        assertThat(receiptCount(id)).isEqualTo(created);
        JsonNode view = channel(a, id);
        assertThat(view.path("proofs").path("sentByA").path("transferred").asString()).isEqualTo(Long.toString(n * 1_000L));
        assertThat(view.path("proofs").path("sentByB").path("transferred").asString()).isEqualTo(Long.toString(n * 500L));
        assertThat(view.path("watchtower").path("registered").asBoolean()).isTrue();

        // every replay answers as the first time: a stored proof 200 with what was stored, a stale one stale
        for (long[] o : orders.subList(0, 200)) {
            if (o[0] > 1) {
                continue;
            }
            Channels.ProofResult again = o[0] == 0 ? store(channels, id, b.address(), o[1], o[2], a.key())
                    : store(channels, id, a.address(), o[1], o[2], b.key());
            Channels.ProofResult first = createdByKey.get(o[0] + ":" + o[1]);
            if (first != null) {
                assertThat(again.status()).isEqualTo(200);
                assertThat(again.proof()).isEqualTo(first.proof());
            } else {
                assertThat(again.code()).isEqualTo("CHANNEL_PROOF_STALE");
            }
        }
        assertThat(receiptCount(id)).isEqualTo(created);
    }

    @Test
    void a_group_whose_commit_fails_acknowledges_none_of_its_proofs_and_stores_nothing() throws Exception {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        assertThat(store(channels, id, b.address(), 1, 1_000, a.key()).created()).isTrue();
        String trigger = "fail_" + id.hex().substring(2, 18);
        // the database refuses the group at its commit (a deferred constraint trigger on this channel's receipts)
        jdbc.execute("CREATE OR REPLACE FUNCTION backend." + trigger + "() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN RAISE EXCEPTION 'the commit of this group fails'; END $$");
        jdbc.execute("CREATE CONSTRAINT TRIGGER " + trigger + " AFTER INSERT ON backend.channel_proof_receipts"
                + " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.channel_id = '" + id.hex() + "')"
                + " EXECUTE FUNCTION backend." + trigger + "()");
        List<Channels.ProofResult> failed;
        ApiClient.Response overHttp;
        try {
            List<java.util.concurrent.Callable<Channels.ProofResult>> tasks = new ArrayList<>();
            for (long i = 2; i <= 60; i++) {
                long nonce = i;
                tasks.add(() -> store(channels, id, b.address(), nonce, nonce * 1_000, a.key()));
                tasks.add(() -> store(channels, id, a.address(), nonce, nonce, b.key()));
            }
            failed = allAtOnce(tasks);
            overHttp = storeProof(b, id, proofBody(id, 61, 61_000, a.key()));
        } finally {
            jdbc.execute("DROP TRIGGER " + trigger + " ON backend.channel_proof_receipts");
            jdbc.execute("DROP FUNCTION backend." + trigger + "()");
        }
        for (Channels.ProofResult r : failed) {
            assertThat(r.ok()).as("nobody of a failed group is acknowledged").isFalse();
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.code()).isEqualTo("CHANNEL_PROOFS_NOT_STORED");
        }
        assertThat(overHttp.status()).isEqualTo(503);
        assertThat(overHttp.code()).isEqualTo("CHANNEL_PROOFS_NOT_STORED");
        assertThat(overHttp.raw().headers().firstValue("Retry-After")).contains("1");
        // nothing of the failed groups is stored: not the newest, not a receipt, not A's registration
        assertThat(channels.proof(id, a.address()).orElseThrow().nonce()).isEqualTo(BigInteger.ONE);
        assertThat(channels.proof(id, b.address())).isEmpty();
        assertThat(receiptCount(id)).isEqualTo(1);
        assertThat(channels.registration(id, a.address())).isEmpty();
        // sent again, they are stored as if the first try had never been
        assertThat(storeProof(b, id, proofBody(id, 61, 61_000, a.key())).status()).isEqualTo(201);
        assertThat(store(channels, id, a.address(), 60, 60, b.key()).created()).isTrue();
        assertThat(channels.proof(id, b.address()).orElseThrow().nonce()).isEqualTo(BigInteger.valueOf(60));
        assertThat(channels.registration(id, a.address())).isPresent();
    }

    @Test
    void another_instance_holding_the_channel_waits_its_turn_decides_its_group_in_nonce_order_and_a_full_queue_answers_busy() throws Exception {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        // a second "instance": its own lanes (queue of 2) on the same database
        ChannelSettings small = new ChannelSettings(null, 0, Duration.ofSeconds(1), false, null, null, null, 2, 1024, Duration.ofDays(1), Duration.ofMinutes(1));
        var otherMeters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        ProofGroups otherLanes = new ProofGroups(store, audit, java.time.Clock.systemUTC(), dataSource, small,
                otherMeters);
        Channels other = new Channels(store, otherLanes, gateway, audit, java.time.Clock.systemUTC(),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        var txManager = new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource);
        var holding = txManager.getTransaction(new org.springframework.transaction.support.DefaultTransactionDefinition());
        List<java.util.concurrent.Future<Channels.ProofResult>> queued = new ArrayList<>();
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                // this instance's group holds the channel's row (as a group of this instance does while it writes)
                assertThat(store.lockForProofs(id)).isPresent();
                queued.add(pool.submit(() -> store(other, id, b.address(), 5, 5_000, a.key())));
                awaitUntil("the other instance's first group waiting for the row", () -> {
                    jdbc.execute("SELECT pg_stat_clear_snapshot()");
                    return jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            + " AND query LIKE '%FOR NO KEY UPDATE OF c%'", Long.class) > 0;
                });
                // 7 queued before 6 (as a network may reorder them): one group, decided in nonce order
                queued.add(pool.submit(() -> store(other, id, b.address(), 7, 7_000, a.key())));
                awaitUntil("7 queued behind it", () -> otherMeters.get("agentescrow.channel.proof.queued")
                        .gauge().value() == 1);
                queued.add(pool.submit(() -> store(other, id, b.address(), 6, 6_000, a.key())));
                awaitUntil("6 queued behind 7", () -> otherMeters.get("agentescrow.channel.proof.queued")
                        .gauge().value() == 2);
                Channels.ProofResult full = store(other, id, b.address(), 9, 9_000, a.key());
                assertThat(full.status()).isEqualTo(503);
                assertThat(full.code()).isEqualTo("CHANNEL_PROOFS_BUSY");
                for (var f : queued) {
                    assertThat(f.isDone()).as("no answer before the commit").isFalse();
                }
                assertThat(channels.proof(id, a.address())).isEmpty();
            } finally {
                txManager.commit(holding);
            }
            for (var f : queued) {
                Channels.ProofResult r = f.get();
                assertThat(r.created()).as(r.code() + " " + r.message()).isTrue();
            }
        }
        assertThat(channels.proof(id, a.address()).orElseThrow().nonce()).isEqualTo(BigInteger.valueOf(7));
        assertThat(receiptCount(id)).isEqualTo(3);
        assertThat(store(other, id, b.address(), 4, 4_000, a.key()).code()).isEqualTo("CHANNEL_PROOF_STALE");
        assertThat(store(channels, id, b.address(), 5, 5_000, a.key()).status()).as("replayed on this instance")
                .isEqualTo(200);
    }

    @Test
    void a_request_that_stops_waiting_for_its_group_leaves_its_proof_to_the_lane_which_goes_on_without_it() throws Exception {
        Agent a = agent(true);
        Agent b = agent(true);
        Bytes32 id = openThroughTheService(a, b);
        var meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        ProofGroups lanes = new ProofGroups(store, audit, java.time.Clock.systemUTC(), dataSource,
                new ChannelSettings(null, 0, Duration.ofSeconds(1), false, null, null, null, 16, 1024, Duration.ofDays(1), Duration.ofMinutes(1)), meters);
        var txManager = new org.springframework.jdbc.datasource.DataSourceTransactionManager(dataSource);
        var holding = txManager.getTransaction(new org.springframework.transaction.support.DefaultTransactionDefinition());
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.concurrent.Future<Channels.ProofResult> first;
            java.util.concurrent.Future<Channels.ProofResult> last;
            try {
                // the channel's row is held elsewhere: the first proof's request writes (and waits for the row)
                assertThat(store.lockForProofs(id)).isPresent();
                first = pool.submit(() -> lanes.store(List.of(pending(id, b.address(), 5, 5_000, a.key())), Long.MAX_VALUE).getFirst());
                awaitUntil("the first proof's group waiting for the row", () -> {
                    jdbc.execute("SELECT pg_stat_clear_snapshot()");
                    return jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            + " AND query LIKE '%FOR NO KEY UPDATE OF c%'", Long.class) > 0;
                });
                // the second stops waiting (its request's time is up) while it is queued first
                assertThatThrownBy(() -> lanes.store(List.of(pending(id, b.address(), 6, 6_000, a.key())),
                        java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50)))
                        .isInstanceOf(java.util.concurrent.TimeoutException.class);
                last = pool.submit(() -> lanes.store(List.of(pending(id, b.address(), 7, 7_000, a.key())), Long.MAX_VALUE).getFirst());
                awaitUntil("7 queued behind 6", () -> meters.get("agentescrow.channel.proof.queued").gauge().value() == 2);
            } finally {
                txManager.commit(holding);
            }
            // the lane writes the next group (6, whose request stopped waiting, and 7): nothing is left behind
            assertThat(first.get(60, java.util.concurrent.TimeUnit.SECONDS).created()).isTrue();
            Channels.ProofResult seventh = last.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(seventh.created()).as(seventh.code() + " " + seventh.message()).isTrue();
        }
        assertThat(channels.proof(id, a.address()).orElseThrow().nonce()).isEqualTo(BigInteger.valueOf(7));
        assertThat(receiptCount(id)).isEqualTo(3);
        // the proof whose request gave up was stored all the same: sent again, it is a replay
        assertThat(store(channels, id, b.address(), 6, 6_000, a.key()).status()).isEqualTo(200);
        // and the lane serves the next proof at once (written by its own request)
        assertThat(lanes.store(List.of(pending(id, b.address(), 8, 8_000, a.key())), Long.MAX_VALUE).getFirst().created()).isTrue();
        assertThat(meters.get("agentescrow.channel.proof.queued").gauge().value()).isZero();
    }

    /** A proof as a request brings it to the lanes: signed by {@code key}, its signer's key recovered. */
    private ProofGroups.Pending pending(Bytes32 id, Address caller, long nonce, long transferred, Credentials key) {
        BalanceProof proof = new BalanceProof(id, ChannelNonce.of(nonce), Amount.of(transferred));
        ChannelSignature signature = signer.sign(proof, key);
        return new ProofGroups.Pending(id, caller, proof.nonce().value(), proof.transferred().baseUnits(),
                signature.hex(), signer.digest(proof), signer.recover(proof, signature),
                new java.util.concurrent.CompletableFuture<>());
    }

    private long latestTimestamp() {
        try {
            return client.web3j().ethGetBlockByNumber(org.web3j.protocol.core.DefaultBlockParameterName.LATEST, false)
                    .send().getBlock().getTimestamp().longValueExact();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
