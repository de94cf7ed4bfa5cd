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
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.stereotype.Component;

/**
 * Channels as the agents see them: the indexed channels they take part in, their registration
 * (and watchtower choice), and the store of the newest balance proof each received. A proof is
 * checked as the contract checks it (EIP-712 in the contract's domain, the signer's fixed key, the
 * channel id inside the signed message) and against what the service knows (newer than the stored
 * one, within what the signer deposited and received), then written with the proofs of the same
 * channel that arrived meanwhile, in one commit ({@link ProofGroups}).
 */
@Component
public class Channels {
    private final ChannelTypedDataSigner signer;
    private final AuditLog audit;
    private final Clock clock;
    /** How long a request waits for its group's commit before it answers 503 (the proof may yet be stored). */
    private static final Duration ANSWER_WAIT = Duration.ofSeconds(30);

    private final ChannelStore store;
    private final ProofGroups groups;
    private final Timer verifying;
    private final Timer waitingForGroup;
    private final DistributionSummary requestSizes;

    public Channels(ChannelStore store, ProofGroups groups, PaymentChannelsGateway gateway, AuditLog audit,
                    Clock clock, MeterRegistry registry) {
        this.store = store;
        this.groups = groups;
        this.signer = gateway.typedDataSigner();
        this.audit = audit;
        this.clock = clock;
        this.verifying = ApiSteps.timer(registry, "proof-verify");
        this.waitingForGroup = ApiSteps.timer(registry, "proof-wait");
        this.requestSizes = DistributionSummary.builder("agentescrow.channel.proof.request.size")
                .description("balance proofs per store request (1: POST .../proofs; 1 to 100: .../proofs/batch)")
                .register(registry);
    }

    public ChannelTypedDataSigner typedDataSigner() {
        return signer;
    }

    /** The outcome of storing a proof: the stored proof (new or replayed) or a refusal. */
    public record ProofResult(ChannelStore.StoredProof proof, boolean created, int status, String code,
                              String message) {
        public static ProofResult refused(int status, String code, String message) {
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
     * same proof again (an accepted one, even if a newer one replaced it since) answers what was
     * stored. The signature is recovered here, on the request's thread; the rest is decided and
     * written by the channel's lane ({@link ProofGroups}), and the answer comes after its commit.
     */
    public ProofResult storeProof(Bytes32 id, Address caller, ChannelNonce nonce, Amount transferred,
                                  ChannelSignature signature) {
        return storeProofs(id, caller, List.of(new ProofInput(nonce, transferred, signature))).getFirst();
    }

    /** A balance proof of a request (its channel is the request's): nonce, running total and signature. */
    public record ProofInput(ChannelNonce nonce, Amount transferred, ChannelSignature signature) {
    }

    /**
     * Stores the counterparty's proofs that {@code caller} received, each as {@link #storeProof}
     * would, and answers them in their order: each signature recovered here, on the request's thread,
     * then all handed to the channel's lane at once (written in one group or consecutive ones, in
     * nonce order). A full queue or a late answer refuses every proof of the request alike (503
     * {@code CHANNEL_PROOFS_BUSY}); a group whose write failed answers its proofs 503
     * {@code CHANNEL_PROOFS_NOT_STORED}.
     */
    public List<ProofResult> storeProofs(Bytes32 id, Address caller, List<ProofInput> proofs) {
        if (proofs.isEmpty()) {
            return List.of();
        }
        List<ProofGroups.Pending> pending = new ArrayList<>(proofs.size());
        for (ProofInput p : proofs) {
            BalanceProof proof = new BalanceProof(id, p.nonce(), p.transferred());
            Address recovered = verifying.record(() -> {
                try {
                    return signer.recover(proof, p.signature());
                } catch (IllegalArgumentException malformed) {
                    return null;
                }
            });
            pending.add(new ProofGroups.Pending(id, caller, p.nonce().value(), p.transferred().baseUnits(),
                    p.signature().hex(), signer.digest(proof), recovered, new CompletableFuture<>()));
        }
        requestSizes.record(proofs.size());
        long start = System.nanoTime();
        try {
            return groups.store(pending, ANSWER_WAIT.toNanos());
        } catch (ProofGroups.Busy busy) {
            return all(proofs, ProofResult.refused(503, "CHANNEL_PROOFS_BUSY", busy.getMessage()
                    + ": send it again shortly"));
        } catch (TimeoutException e) {
            return all(proofs, ProofResult.refused(503, "CHANNEL_PROOFS_BUSY", "the proof was not written within "
                    + ANSWER_WAIT.toSeconds() + " s (it may be yet): send it again (a stored one answers 200, replayed)"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return all(proofs, ProofResult.refused(503, "CHANNEL_PROOFS_BUSY",
                    "interrupted while the proof was being written"));
        } finally {
            waitingForGroup.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    private static List<ProofResult> all(List<ProofInput> proofs, ProofResult result) {
        return java.util.Collections.nCopies(proofs.size(), result);
    }

    /** Whether {@code signature} is {@code key}'s over {@code message} in the contract's domain. */
    public boolean verify(ChannelTypedData message, ChannelSignature signature, Address key) {
        return signer.verify(message, signature, key);
    }
}
