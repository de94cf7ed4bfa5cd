package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Bytes32;

/** A message of the PaymentChannels EIP-712 types, hashed exactly as the contract hashes it. */
public sealed interface ChannelTypedData permits BalanceProof, CooperativeClose, Withdrawal {
    /** The channel the message is about. */
    Bytes32 channelId();

    /** The EIP-712 type string, e.g. {@code BalanceProof(bytes32 channelId,...)}. */
    String typeString();

    /** {@code hashStruct(message)}: keccak256 of the type hash followed by the ABI-encoded fields. */
    Bytes32 structHash();
}
