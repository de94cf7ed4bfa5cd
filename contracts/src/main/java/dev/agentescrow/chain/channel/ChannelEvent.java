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

    record Opened(Bytes32 channelId, Address participantA, Address participantB, Address token, Address signingKeyA,
                  Amount depositA, Duration challengePeriod, LogPosition position) implements ChannelEvent {
    }

    record Accepted(Bytes32 channelId, Address participantB, Address signingKeyB, Amount depositB,
                    LogPosition position) implements ChannelEvent {
    }

    record Deposited(Bytes32 channelId, Address participant, Amount amount, Amount totalDeposit,
                     LogPosition position) implements ChannelEvent {
    }

    record Withdrawn(Bytes32 channelId, Address participant, Amount amount, Amount totalWithdrawn,
                     LogPosition position) implements ChannelEvent {
    }

    /** A close with the counterparty's proof of {@code nonce} and {@code transferred} (0, 0: none). */
    record Closed(Bytes32 channelId, Address closer, ChannelNonce nonce, Amount transferred, Instant closesAt,
                  LogPosition position) implements ChannelEvent {
    }

    record BalanceProofUpdated(Bytes32 channelId, Address participant, Address submitter, ChannelNonce nonce,
                               Amount transferred, LogPosition position) implements ChannelEvent {
    }

    record Settled(Bytes32 channelId, Amount payoutA, Amount payoutB, boolean cooperative,
                   LogPosition position) implements ChannelEvent {
    }

    record PaidOut(Bytes32 channelId, Address participant, Address to, Amount amount, LogPosition position)
            implements ChannelEvent {
    }

    record PayoutRefused(Bytes32 channelId, Address participant, Amount amount, LogPosition position)
            implements ChannelEvent {
    }
}
