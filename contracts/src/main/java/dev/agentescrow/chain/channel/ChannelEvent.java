package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import java.time.Duration;
import java.time.Instant;

/** An event of the PaymentChannels contract, with where it was logged. */
public sealed interface ChannelEvent {
    Bytes32 channelId();

    LogPosition position();

    record Opened(Bytes32 channelId, Address participantA, Address participantB, Address token, Amount depositA,
                  Duration challengePeriod, LogPosition position) implements ChannelEvent {
    }

    record Deposited(Bytes32 channelId, Address participant, Amount amount, Amount totalDeposit,
                     LogPosition position) implements ChannelEvent {
    }

    record Withdrawn(Bytes32 channelId, Address participant, Amount amount, ChannelNonce nonce,
                     LogPosition position) implements ChannelEvent {
    }

    record Closed(Bytes32 channelId, Address closer, ChannelNonce nonce, Amount balanceA, Amount balanceB,
                  Instant closesAt, LogPosition position) implements ChannelEvent {
    }

    record Challenged(Bytes32 channelId, Address challenger, ChannelNonce nonce, Amount balanceA, Amount balanceB,
                      LogPosition position) implements ChannelEvent {
    }

    record Settled(Bytes32 channelId, Amount payoutA, Amount payoutB, boolean cooperative,
                   LogPosition position) implements ChannelEvent {
    }
}
