package dev.agentescrow.backend.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.channel.ChannelState;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Optional;

/**
 * A channel as its confirmed events leave it: the contract's state at the confirmed block.
 *
 * @param keyB B's signing key, null until B accepted
 * @param closer who closed (null before a close, and for a cooperative close)
 * @param closesAt end of the challenge period (null before a close)
 * @param payoutA what settlement paid A (null before it), likewise {@code payoutB}
 */
public record Channel(Bytes32 id, Address token, Address a, Address b, Address keyA, Address keyB, ChannelState state,
                      long challengePeriodSeconds, Side sideA, Side sideB, Address closer, Instant closesAt,
                      BigInteger payoutA, BigInteger payoutB, Boolean cooperative, long updatedBlock) {

    /** One participant's running totals as the contract keeps them. */
    public record Side(BigInteger deposit, BigInteger withdrawn, BigInteger nonce, BigInteger transferred,
                       BigInteger unclaimed) {
        static final Side EMPTY = new Side(BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO,
                BigInteger.ZERO);

        Side withDeposit(BigInteger total) {
            return new Side(total, withdrawn, nonce, transferred, unclaimed);
        }

        Side withWithdrawn(BigInteger total) {
            return new Side(deposit, total, nonce, transferred, unclaimed);
        }

        Side withProof(BigInteger proofNonce, BigInteger total) {
            return new Side(deposit, withdrawn, proofNonce, total, unclaimed);
        }

        Side withUnclaimed(BigInteger amount) {
            return new Side(deposit, withdrawn, nonce, transferred, amount);
        }
    }

    public boolean isParticipant(Address who) {
        return a.equals(who) || b.equals(who);
    }

    /** The other participant. */
    public Address counterparty(Address who) {
        return a.equals(who) ? b : a;
    }

    public Side side(Address who) {
        return a.equals(who) ? sideA : sideB;
    }

    /** The key whose signatures speak for {@code who}; empty for B before it accepted. */
    public Optional<Address> signingKey(Address who) {
        return Optional.ofNullable(a.equals(who) ? keyA : keyB);
    }

    /** Deposits minus withdrawals: what the channel holds while it is not settled. */
    public BigInteger funds() {
        return sideA.deposit().add(sideB.deposit()).subtract(sideA.withdrawn()).subtract(sideB.withdrawn());
    }

    /**
     * The contract's settlement rule (Raiden's, clamped to the funds) for transferred totals
     * {@code transferredA} and {@code transferredB}: A's payout, then B's.
     */
    public BigInteger[] payouts(BigInteger transferredA, BigInteger transferredB) {
        BigInteger funds = funds();
        BigInteger payoutA;
        BigInteger payoutB;
        if (transferredA.compareTo(transferredB) >= 0) {
            payoutA = netOf(sideA, transferredA.subtract(transferredB), funds);
            payoutB = funds.subtract(payoutA);
        } else {
            payoutB = netOf(sideB, transferredB.subtract(transferredA), funds);
            payoutA = funds.subtract(payoutB);
        }
        return new BigInteger[] {payoutA, payoutB};
    }

    private static BigInteger netOf(Side side, BigInteger sent, BigInteger funds) {
        BigInteger net = side.deposit().subtract(side.withdrawn()).subtract(sent);
        if (net.signum() <= 0) {
            return BigInteger.ZERO;
        }
        return net.min(funds);
    }
}
