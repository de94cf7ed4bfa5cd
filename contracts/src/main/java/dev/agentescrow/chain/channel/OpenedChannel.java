package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Receipt;

/** The id of a channel just opened and the receipt of the transaction that opened it. */
public record OpenedChannel(Bytes32 channelId, Receipt receipt) {
}
