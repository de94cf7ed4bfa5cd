package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.events.EventPublisher;
import dev.agentescrow.backend.events.EventType;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import dev.agentescrow.chain.channel.ChannelSignature;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.DefaultBlockParameterName;

/**
 * The watchtower: while a channel is closing, a registered participant X that did not opt out is
 * defended with the newest proof it stored of its counterparty Y: if that proof's total is larger
 * than the one the contract holds for Y (a stale close by Y, or none submitted), the service calls
 * {@code updateBalanceProof(Y's proof)} with its own key before the challenge period ends.
 *
 * <p><b>Never twice.</b> A submission is a row: INTENDED (unique per channel, signer and total)
 * before anything is signed, SIGNED with the signed bytes before they are broadcast, then
 * SUCCEEDED / FAILED by its receipt, EXPIRED when the period ended first, SUPERSEDED when the
 * contract already holds a proof as large (the gas estimate reverts). After a crash only the stored
 * bytes are broadcast again, which the node treats as the same transaction. The key is the
 * watchtower's alone (no other role signs with it) and its nonce is asked of the node when signing,
 * one submission at a time, so no settlement or other sender can hold a challenge up.
 */
@Component
public class Watchtower {
    private static final Logger log = LoggerFactory.getLogger(Watchtower.class);
    /** Closing channels looked at per run, and submissions worked on per run, at most. */
    static final int MAX_PER_RUN = 100;

    private final ChannelStore store;
    private final JdbcTemplate jdbc;
    private final ChainClient client;
    private final PaymentChannelsGateway gateway;
    private final ChannelConfig.WatchtowerKey key;
    private final EventPublisher events;
    private final AuditLog audit;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Counter gas;

    public Watchtower(ChannelStore store, JdbcTemplate jdbc, ChainClient client, PaymentChannelsGateway gateway,
                      ChannelConfig.WatchtowerKey key, EventPublisher events, AuditLog audit, Clock clock,
                      MeterRegistry registry) {
        this.store = store;
        this.jdbc = jdbc;
        this.client = client;
        this.gateway = gateway;
        this.key = key;
        this.events = events;
        this.audit = audit;
        this.clock = clock;
        this.registry = registry;
        this.gas = Counter.builder("agentescrow.channel.watchtower.gas")
                .description("gas used by the watchtower's mined submissions").register(registry);
        for (String outcome : List.of("succeeded", "failed", "expired", "superseded")) {
            outcomes(outcome);
        }
        Counter.builder("agentescrow.channel.watchtower.submissions.sent")
                .description("proofs the watchtower signed and broadcast").register(registry);
    }

    private Counter outcomes(String outcome) {
        return Counter.builder("agentescrow.channel.watchtower.submissions")
                .description("the watchtower's submissions by outcome").tag("outcome", outcome).register(registry);
    }

    public Optional<Address> address() {
        return key.address();
    }

    /** One run: record what needs defending, then drive each open submission one step. */
    public void run() {
        Optional<Credentials> credentials = key.credentials();
        if (credentials.isEmpty()) {
            return;
        }
        Instant now = chainNow();
        for (Channel channel : store.closing(now, MAX_PER_RUN)) {
            for (Address defended : List.of(channel.a(), channel.b())) {
                intend(channel, defended, now);
            }
        }
        for (Submission s : open()) {
            try {
                step(s, credentials.get(), now);
            } catch (ChainException e) {
                log.warn("watchtower submission {} for channel {}: {} (tried again at the next run)", s.id(),
                        s.channelId(), e.getMessage());
            }
        }
    }

    /** The latest block's timestamp: the contract's clock for the challenge period. */
    private Instant chainNow() {
        try {
            var block = client.web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false).send().getBlock();
            return Instant.ofEpochSecond(block.getTimestamp().longValueExact());
        } catch (java.io.IOException e) {
            throw new ChainException("cannot read the latest block", e);
        }
    }

    /** Records an intent if {@code defended} holds a proof of its counterparty larger than the contract's. */
    private void intend(Channel channel, Address defended, Instant now) {
        Optional<ChannelStore.Registration> registration = store.registration(channel.id(), defended);
        if (registration.isEmpty() || !registration.get().watchtower()) {
            return;
        }
        Address signer = channel.counterparty(defended);
        Optional<ChannelStore.StoredProof> proof = store.proof(channel.id(), signer);
        if (proof.isEmpty() || proof.get().transferred().compareTo(channel.side(signer).transferred()) <= 0) {
            return;
        }
        ChannelStore.StoredProof p = proof.get();
        jdbc.update("INSERT INTO backend.channel_watchtower_submissions (channel_id, signer, defended, nonce, transferred,"
                        + " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'INTENDED', ?, ?) ON CONFLICT DO NOTHING",
                channel.id().hex(), signer.hex(), defended.hex(), ChannelStore.dec(p.nonce()),
                ChannelStore.dec(p.transferred()), Timestamp.from(now), Timestamp.from(now));
    }

    record Submission(long id, Bytes32 channelId, Address signer, Address defended, BigInteger nonce,
                      BigInteger transferred, String state, String txHash, Long txNonce, String rawTx) {
    }

    private List<Submission> open() {
        return jdbc.query("SELECT id, channel_id, signer, defended, nonce, transferred, state, tx_hash, tx_nonce, raw_tx"
                        + " FROM backend.channel_watchtower_submissions WHERE state IN ('INTENDED', 'SIGNED') ORDER BY id"
                        + " LIMIT ?", (rs, n) -> new Submission(rs.getLong(1), Bytes32.fromHex(rs.getString(2)),
                        ChannelStore.addr(rs, 3), ChannelStore.addr(rs, 4), ChannelStore.big(rs, 5),
                        ChannelStore.big(rs, 6), rs.getString(7), rs.getString(8),
                        (Long) rs.getObject(9), rs.getString(10)), MAX_PER_RUN);
    }

    private void step(Submission s, Credentials credentials, Instant now) {
        if (s.state().equals("INTENDED")) {
            Optional<Channel> channel = store.find(s.channelId());
            if (channel.isEmpty() || channel.get().closesAt() == null || !now.isBefore(channel.get().closesAt())) {
                finish(s, "EXPIRED", null, "the challenge period ended before the proof was sent");
                return;
            }
            Optional<ChannelStore.StoredProof> proof = store.proof(s.channelId(), s.signer());
            if (proof.isEmpty() || !proof.get().transferred().equals(s.transferred())) {
                finish(s, "SUPERSEDED", null, "a newer proof was stored");
                return;
            }
            String data = ChannelCalls.updateBalanceProof(s.channelId(), s.signer(), s.nonce(), s.transferred(),
                    ChannelSignature.fromHex(proof.get().signature()).bytes());
            PreparedTransaction prepared;
            try {
                prepared = client.prepare(credentials, gateway.address(),
                        data, client.pendingNonce(Address.of(credentials.getAddress())));
            } catch (ContractRevertedException e) {
                finish(s, "SUPERSEDED", null, truncate("the contract refuses it now: " + e.getMessage()));
                return;
            }
            int signed = jdbc.update("UPDATE backend.channel_watchtower_submissions SET state = 'SIGNED', tx_hash = ?,"
                            + " tx_nonce = ?, raw_tx = ?, updated_at = ? WHERE id = ? AND state = 'INTENDED'",
                    prepared.txHash().value(), prepared.nonce(), prepared.rawTransactionHex(), Timestamp.from(now), s.id());
            if (signed != 1) {
                return;
            }
            registry.counter("agentescrow.channel.watchtower.submissions.sent").increment();
            audit.record("watchtower", "CHANNEL_PROOF_SUBMITTED", "channel", s.channelId().hex(), null, s.transferred());
            send(s, prepared, now);
            return;
        }
        PreparedTransaction stored = new PreparedTransaction(new TxHash(s.txHash()), s.txNonce(), s.rawTx(),
                Address.of(credentials.getAddress()), gateway.address());
        send(s, stored, now);
    }

    /** Broadcasts the stored bytes (again) and records the receipt if there is one. */
    private void send(Submission s, PreparedTransaction prepared, Instant now) {
        Optional<MinedReceipt> receipt = client.receipt(prepared.txHash());
        if (receipt.isEmpty()) {
            ChainClient.Broadcast broadcast;
            try {
                broadcast = client.broadcastAndPoll(prepared);
            } catch (ContractRevertedException e) {
                // Hardhat reports a transaction that reverted while automining this way; it is mined.
                receipt = client.receipt(prepared.txHash());
                if (receipt.isEmpty()) {
                    finish(s, "FAILED", null, truncate("reverted: " + e.getMessage()));
                    return;
                }
                broadcast = new ChainClient.Broadcast(ChainClient.BroadcastOutcome.ALREADY_KNOWN, receipt);
            }
            if (broadcast.outcome() == ChainClient.BroadcastOutcome.NONCE_CONSUMED) {
                // Only the watchtower signs with this key: its nonce went to another of its own submissions.
                jdbc.update("UPDATE backend.channel_watchtower_submissions SET state = 'INTENDED', tx_hash = NULL,"
                        + " tx_nonce = NULL, raw_tx = NULL, updated_at = ? WHERE id = ?", Timestamp.from(now), s.id());
                return;
            }
            receipt = broadcast.receipt().isPresent() ? broadcast.receipt() : client.receipt(prepared.txHash());
        }
        if (receipt.isEmpty()) {
            return;
        }
        MinedReceipt mined = receipt.get();
        gas.increment(mined.gasUsed());
        finish(s, mined.succeeded() ? "SUCCEEDED" : "FAILED", mined.gasUsed(),
                mined.succeeded() ? "mined in block " + mined.blockNumber() : "reverted in block " + mined.blockNumber());
        if (mined.succeeded()) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("channelId", s.channelId().hex());
            data.put("defended", s.defended().checksummed());
            data.put("counterparty", s.signer().checksummed());
            data.put("nonce", s.nonce().toString());
            data.put("transferred", s.transferred().toString());
            data.put("txHash", prepared.txHash().value());
            data.put("gasUsed", mined.gasUsed());
            events.publishOnce("channel-defended:" + s.id(), EventType.CHANNEL_DEFENDED, List.of(s.defended()),
                    s.channelId().hex(), data);
        }
    }

    private void finish(Submission s, String state, Long gasUsed, String detail) {
        int updated = jdbc.update("UPDATE backend.channel_watchtower_submissions SET state = ?, gas_used = ?, detail = ?,"
                        + " updated_at = ? WHERE id = ? AND state IN ('INTENDED', 'SIGNED')", state, gasUsed, detail,
                Timestamp.from(clock.instant()), s.id());
        if (updated == 1) {
            outcomes(state.toLowerCase(java.util.Locale.ROOT)).increment();
        }
    }

    private static String truncate(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300);
    }

    /** The watchtower's submissions for a channel, newest first (for the channel's view). */
    public List<Map<String, Object>> submissions(Bytes32 channelId) {
        return jdbc.query("SELECT signer, defended, nonce, transferred, state, tx_hash, gas_used, detail, created_at"
                + " FROM backend.channel_watchtower_submissions WHERE channel_id = ? ORDER BY id DESC LIMIT 20", (rs, n) -> {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("counterparty", ChannelStore.addr(rs, 1).checksummed());
                    row.put("defended", ChannelStore.addr(rs, 2).checksummed());
                    row.put("nonce", ChannelStore.big(rs, 3).toString());
                    row.put("transferred", ChannelStore.big(rs, 4).toString());
                    row.put("state", rs.getString(5));
                    row.put("txHash", rs.getString(6));
                    row.put("gasUsed", rs.getObject(7));
                    row.put("detail", rs.getString(8));
                    row.put("createdAt", rs.getTimestamp(9).toInstant().toString());
                    return row;
                }, channelId.hex());
    }
}
