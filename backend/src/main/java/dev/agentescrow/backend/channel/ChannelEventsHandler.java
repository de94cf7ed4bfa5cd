package dev.agentescrow.backend.channel;

import dev.agentescrow.chain.channel.ChannelEvent;
import java.util.List;

/**
 * What a contract-log follower tells the channels feature: confirmed events arrived, or a
 * reorganisation replaced blocks already delivered. Both are called inside the follower's database
 * transaction, which also moves its cursor, so an event is applied exactly when the cursor passes it.
 */
public interface ChannelEventsHandler {
    /** Confirmed events of the PaymentChannels contract, in chain order (a redelivery writes nothing). */
    void arrived(List<ChannelEvent> events);

    /** The blocks after {@code block} were replaced: forget their events (the new ones arrive next). */
    void revertedAfter(long block);
}
