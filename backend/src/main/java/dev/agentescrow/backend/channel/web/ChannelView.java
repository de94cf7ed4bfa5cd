package dev.agentescrow.backend.channel.web;

import dev.agentescrow.backend.channel.Channel;
import dev.agentescrow.backend.channel.ChannelStore;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A channel as its participant sees it: the contract's state at the confirmed block, deposits and
 * withdrawals, the newest stored proof of each direction, and what each side would receive if the
 * channel closed now with those proofs (the contract's settlement rule).
 *
 * @param proofs {@code sentByA}: the newest proof A signed (stored by B); {@code sentByB} likewise
 * @param ifClosedNow what settlement would pay A and B with the newest proofs known (stored or on chain)
 */
public record ChannelView(String id, String state, String token, long challengePeriodSeconds, String role,
                          Participant a, Participant b, String funds, String closer, String closesAt,
                          Map<String, ProofView> proofs, Payouts ifClosedNow, Payouts settled,
                          List<MovementView> movements, Watchtower watchtower, long indexedBlock) {

    /** One side: its account, signing key, running totals, and the proof the contract holds while closing. */
    public record Participant(String account, String signingKey, String deposit, String withdrawn,
                              String proofNonce, String proofTransferred, String unclaimed) {
    }

    public record ProofView(String signer, String nonce, String transferred, String signature, String proofHash,
                            String storedBy, String storedAt) {
        static ProofView of(ChannelStore.StoredProof p) {
            return new ProofView(p.signer().checksummed(), p.nonce().toString(), p.transferred().toString(),
                    p.signature(), p.digest().hex(), p.storedBy().checksummed(), p.storedAt().toString());
        }
    }

    public record Payouts(String a, String b) {
    }

    public record MovementView(String kind, String participant, String amount, String total, String txHash,
                               long blockNumber) {
    }

    /**
     * The caller's registration and watchtower choice ({@code enabled}), whether the service's watchtower
     * runs at all ({@code active}: switched on and given a key), whether the caller is defended in this
     * channel ({@code defended}: all three), the watchtower's address (only while it runs), and its
     * submissions.
     */
    public record Watchtower(boolean registered, boolean enabled, boolean active, boolean defended, String address,
                             List<Map<String, Object>> submissions) {

        /** The view of the caller's defence: an agent is never told it is defended by a watchtower that does not run. */
        public static Watchtower of(boolean registered, boolean optedIn, boolean runs, Optional<Address> address,
                                    List<Map<String, Object>> submissions) {
            boolean active = runs && address.isPresent();
            return new Watchtower(registered, registered && optedIn, active, registered && optedIn && active,
                    active ? address.get().checksummed() : null, submissions);
        }
    }

    static ChannelView of(Channel c, Address me, Optional<ChannelStore.StoredProof> sentByA,
                          Optional<ChannelStore.StoredProof> sentByB, List<ChannelStore.Movement> movements,
                          Watchtower watchtower) {
        BigInteger transferredA = sentByA.map(ChannelStore.StoredProof::transferred).orElse(BigInteger.ZERO)
                .max(c.sideA().transferred());
        BigInteger transferredB = sentByB.map(ChannelStore.StoredProof::transferred).orElse(BigInteger.ZERO)
                .max(c.sideB().transferred());
        Payouts ifClosed = null;
        if (c.payoutA() == null) {
            BigInteger[] p = c.payouts(transferredA, transferredB);
            ifClosed = new Payouts(p[0].toString(), p[1].toString());
        }
        java.util.LinkedHashMap<String, ProofView> proofs = new java.util.LinkedHashMap<>();
        proofs.put("sentByA", sentByA.map(ProofView::of).orElse(null));
        proofs.put("sentByB", sentByB.map(ProofView::of).orElse(null));
        return new ChannelView(c.id().hex(), c.state().name(), c.token().checksummed(), c.challengePeriodSeconds(),
                c.a().equals(me) ? "A" : "B", participant(c.a(), c.keyA(), c.sideA()),
                participant(c.b(), c.keyB(), c.sideB()), c.funds().toString(),
                c.closer() == null ? null : c.closer().checksummed(),
                c.closesAt() == null ? null : c.closesAt().toString(), proofs, ifClosed,
                c.payoutA() == null ? null : new Payouts(c.payoutA().toString(), c.payoutB().toString()),
                movements.stream().map(m -> new MovementView(m.kind(), m.participant().checksummed(),
                        m.amount().toString(), m.total().toString(), m.txHash(), m.block())).toList(),
                watchtower, c.updatedBlock());
    }

    private static Participant participant(Address account, Address key, Channel.Side side) {
        return new Participant(account.checksummed(), key == null ? null : key.checksummed(), side.deposit().toString(),
                side.withdrawn().toString(), side.nonce().toString(), side.transferred().toString(),
                side.unclaimed().toString());
    }
}
