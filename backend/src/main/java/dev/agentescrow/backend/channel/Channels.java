package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.ApiSteps;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.channel.BalanceProof;
import dev.agentescrow.chain.channel.ChannelNonce;
import dev.agentescrow.chain.channel.ChannelSignature;
import dev.agentescrow.chain.channel.ChannelState;
import dev.agentescrow.chain.channel.ChannelTypedData;
import dev.agentescrow.chain.channel.ChannelTypedDataSigner;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.math.BigInteger;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * Channels as the agents see them: the indexed channels they take part in, their registration
 * (and watchtower choice), and the store of the newest balance proof each received. A proof is
 * checked as the contract checks it (EIP-712 in the contract's domain, the signer's fixed key, the
 * channel id inside the signed message) and against what the service knows (newer than the stored
 * one, within what the signer deposited and received), then written in one statement.
 */
@Component
public class Channels {
    private final ChannelStore store;
    private final ChannelTypedDataSigner signer;
    private final AuditLog audit;
    private final Clock clock;
    private final Timer reading;
    private final Timer verifying;
    private final Timer writing;

    public Channels(ChannelStore store, PaymentChannelsGateway gateway, AuditLog audit, Clock clock,
                    MeterRegistry registry) {
        this.store = store;
        this.signer = gateway.typedDataSigner();
        this.audit = audit;
        this.clock = clock;
        this.reading = ApiSteps.timer(registry, "proof-read");
        this.verifying = ApiSteps.timer(registry, "proof-verify");
        this.writing = ApiSteps.timer(registry, "proof-write");
    }

    public ChannelTypedDataSigner typedDataSigner() {
        return signer;
    }

    /** The outcome of storing a proof: the stored proof (new or replayed) or a refusal. */
    public record ProofResult(ChannelStore.StoredProof proof, boolean created, int status, String code,
                              String message) {
        static ProofResult refused(int status, String code, String message) {
            return new ProofResult(null, false, status, code, message);
        }

        public boolean ok() {
            return proof != null;
        }
    }

    /** The channel if {@code who} is one of its participants (else empty: another principal's channel is not found). */
    public Optional<Channel> visible(Bytes32 id, Address who) {
        return store.find(id).filter(c -> c.isParticipant(who));
    }

    public List<ChannelStore.Listed> list(Address who, ChannelState state, long before, int limit) {
        return store.list(who, state, before, limit);
    }

    public Optional<ChannelStore.StoredProof> proof(Bytes32 id, Address signerAccount) {
        return store.proof(id, signerAccount);
    }

    public Optional<ChannelStore.Registration> registration(Bytes32 id, Address participant) {
        return store.registration(id, participant);
    }

    public List<ChannelStore.Movement> movements(Bytes32 id) {
        return store.movements(id);
    }

    /** Registers {@code who} for the channel; {@code watchtower} null keeps the stored choice (new: on). */
    public Optional<ChannelStore.Registration> register(Bytes32 id, Address who, Boolean watchtower) {
        if (visible(id, who).isEmpty()) {
            return Optional.empty();
        }
        ChannelStore.Registration registration = store.register(id, who, watchtower, clock.instant());
        audit.record(who.hex(), registration.watchtower() ? "CHANNEL_REGISTERED" : "CHANNEL_REGISTERED_NO_WATCHTOWER",
                "channel", id.hex(), null, null);
        return Optional.of(registration);
    }

    /**
     * Stores the counterparty's proof that {@code caller} received: refused unless the caller is a
     * participant (404), the channel open or closing, the signature the counterparty's key over this
     * channel's proof, the total within the counterparty's deposit less withdrawals plus what it
     * received, and the proof newer than the stored one (a larger nonce, a total not smaller). The
     * same proof again answers the stored one.
     */
    public ProofResult storeProof(Bytes32 id, Address caller, ChannelNonce nonce, Amount transferred,
                                  ChannelSignature signature) {
        Optional<ChannelStore.ProofContext> context = reading.record(() -> store.proofContext(id, caller))
                .filter(c -> c.channel().isParticipant(caller));
        if (context.isEmpty()) {
            return ProofResult.refused(404, "NOT_FOUND", "channel not found");
        }
        Channel channel = context.get().channel();
        if (channel.state() != ChannelState.OPEN && channel.state() != ChannelState.CLOSING) {
            return ProofResult.refused(409, "CHANNEL_INVALID_STATE", "the channel is " + channel.state()
                    + ": proofs count only while it is OPEN or CLOSING");
        }
        Address counterparty = channel.counterparty(caller);
        Address key = channel.signingKey(counterparty).orElseThrow();
        BalanceProof proof = new BalanceProof(id, nonce, transferred);
        if (!verifying.record(() -> signer.verify(proof, signature, key))) {
            return ProofResult.refused(422, "CHANNEL_PROOF_INVALID_SIGNATURE", "the signature is not "
                    + counterparty.checksummed() + "'s key (" + key.checksummed()
                    + ") over this channel's BalanceProof(channelId, nonce, transferred)");
        }
        Channel.Side side = channel.side(counterparty);
        BigInteger received = context.get().receivedByCaller().max(channel.side(caller).transferred());
        BigInteger capacity = side.deposit().subtract(side.withdrawn()).add(received);
        if (transferred.baseUnits().compareTo(capacity) > 0) {
            return ProofResult.refused(422, "CHANNEL_PROOF_EXCEEDS_DEPOSIT", "the proof states " + transferred
                    + " sent, more than the signer deposited less withdrawals plus what it received (" + capacity + ")");
        }
        Bytes32 digest = signer.digest(proof);
        ChannelStore.StoredProof stored = new ChannelStore.StoredProof(id, counterparty, nonce.value(),
                transferred.baseUnits(), signature.hex(), digest, caller, clock.instant());
        if (writing.record(() -> store.storeIfNewer(stored))) {
            if (!context.get().registered()) {
                register(id, caller, null);
            }
            return new ProofResult(stored, true, 201, null, null);
        }
        ChannelStore.StoredProof newest = store.proof(id, counterparty).orElseThrow();
        if (newest.digest().equals(digest)) {
            return new ProofResult(newest, false, 200, null, null);
        }
        return ProofResult.refused(409, "CHANNEL_PROOF_STALE", "the stored proof (nonce " + newest.nonce()
                + ", transferred " + newest.transferred() + ") is not older than this one: a newer proof needs a larger"
                + " nonce and a transferred total at least as large");
    }

    /** Whether {@code signature} is {@code key}'s over {@code message} in the contract's domain. */
    public boolean verify(ChannelTypedData message, ChannelSignature signature, Address key) {
        return signer.verify(message, signature, key);
    }
}
