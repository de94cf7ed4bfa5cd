package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Amount;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A channel as the contract stores it.
 *
 * @param closesAt end of the challenge period, present once a close started it
 * @param closedByA whether participant A closed (meaningless before a close)
 * @param a participant A, who opened the channel
 * @param b participant B, who accepted it
 */
public record PaymentChannel(
        Bytes32 channelId,
        ChannelState state,
        Address token,
        Duration challengePeriod,
        Optional<Instant> closesAt,
        boolean closedByA,
        ChannelParticipant a,
        ChannelParticipant b) {

    /** Deposits minus withdrawals: what the channel holds while it is not settled. */
    public Amount funds() {
        return a.deposit().plus(b.deposit()).minus(a.withdrawn()).minus(b.withdrawn());
    }
}
