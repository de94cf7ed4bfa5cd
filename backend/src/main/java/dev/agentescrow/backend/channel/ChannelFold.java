package dev.agentescrow.backend.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.channel.ChannelEvent;
import dev.agentescrow.chain.channel.ChannelState;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

/**
 * A channel's state from its events in chain order, by the contract's own transitions: the same
 * events always give the same channel, so a reorganisation only has to drop events and fold again.
 */
final class ChannelFold {
    private ChannelFold() {
    }

    /** The channel after {@code events} (all of one channel, in chain order); empty without its open. */
    static Optional<Channel> fold(List<ChannelEvent> events) {
        Channel c = null;
        for (ChannelEvent event : events) {
            c = apply(c, event);
        }
        return Optional.ofNullable(c);
    }

    static Channel apply(Channel c, ChannelEvent event) {
        long block = event.position().blockNumber();
        if (event instanceof ChannelEvent.Opened o) {
            return new Channel(o.channelId(), o.token(), o.participantA(), o.participantB(), o.signingKeyA(), null,
                    ChannelState.PENDING, o.challengePeriod().toSeconds(),
                    Channel.Side.EMPTY.withDeposit(o.depositA().baseUnits()), Channel.Side.EMPTY, null, null, null, null,
                    null, block);
        }
        if (c == null) {
            return null;
        }
        return switch (event) {
            case ChannelEvent.Accepted e -> new Channel(c.id(), c.token(), c.a(), c.b(), c.keyA(), e.signingKeyB(),
                    ChannelState.OPEN, c.challengePeriodSeconds(), c.sideA(),
                    c.sideB().withDeposit(c.sideB().deposit().add(e.depositB().baseUnits())), c.closer(), c.closesAt(),
                    c.payoutA(), c.payoutB(), c.cooperative(), block);
            case ChannelEvent.Deposited e -> sides(c, e.participant(),
                    side -> side.withDeposit(e.totalDeposit().baseUnits()), block);
            case ChannelEvent.Withdrawn e -> sides(c, e.participant(),
                    side -> side.withWithdrawn(e.totalWithdrawn().baseUnits()), block);
            case ChannelEvent.Closed e -> {
                // The closer submitted the other side's proof (0, 0: none).
                Address other = c.counterparty(e.closer());
                Channel withProof = sides(c, other,
                        side -> side.withProof(e.nonce().value(), e.transferred().baseUnits()), block);
                yield new Channel(c.id(), c.token(), c.a(), c.b(), c.keyA(), c.keyB(), ChannelState.CLOSING,
                        c.challengePeriodSeconds(), withProof.sideA(), withProof.sideB(), e.closer(), e.closesAt(),
                        null, null, null, block);
            }
            case ChannelEvent.BalanceProofUpdated e -> sides(c, e.participant(),
                    side -> side.withProof(e.nonce().value(), e.transferred().baseUnits()), block);
            case ChannelEvent.Settled e -> new Channel(c.id(), c.token(), c.a(), c.b(), c.keyA(), c.keyB(),
                    ChannelState.SETTLED, c.challengePeriodSeconds(), c.sideA(), c.sideB(), c.closer(), c.closesAt(),
                    e.payoutA().baseUnits(), e.payoutB().baseUnits(), e.cooperative(), block);
            case ChannelEvent.PayoutRefused e -> sides(c, e.participant(),
                    side -> side.withUnclaimed(e.amount().baseUnits()), block);
            case ChannelEvent.PaidOut e -> isClaim(c, e)
                    ? sides(c, e.participant(), side -> side.withUnclaimed(BigInteger.ZERO), block) : touch(c, block);
            case ChannelEvent.Opened o -> c;
        };
    }

    private static Channel touch(Channel c, long block) {
        return new Channel(c.id(), c.token(), c.a(), c.b(), c.keyA(), c.keyB(), c.state(), c.challengePeriodSeconds(),
                c.sideA(), c.sideB(), c.closer(), c.closesAt(), c.payoutA(), c.payoutB(), c.cooperative(), block);
    }

    private static Channel sides(Channel c, Address who, java.util.function.UnaryOperator<Channel.Side> change,
                                 long block) {
        boolean isA = c.a().equals(who);
        Channel.Side a = isA ? change.apply(c.sideA()) : c.sideA();
        Channel.Side b = isA ? c.sideB() : change.apply(c.sideB());
        return new Channel(c.id(), c.token(), c.a(), c.b(), c.keyA(), c.keyB(), c.state(), c.challengePeriodSeconds(),
                a, b, c.closer(), c.closesAt(), c.payoutA(), c.payoutB(), c.cooperative(), block);
    }

    /**
     * Whether {@code event} is a claim in channel {@code before}: a payout while the participant has
     * an unclaimed amount (only a refused push leaves one; a push at settlement finds none).
     */
    static boolean isClaim(Channel before, ChannelEvent event) {
        return event instanceof ChannelEvent.PaidOut e && before != null && before.state() == ChannelState.SETTLED
                && before.side(e.participant()).unclaimed().signum() > 0;
    }
}
