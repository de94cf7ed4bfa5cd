package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;

/**
 * One side of a channel as the contract stores it.
 *
 * @param signingKey the EOA whose signatures speak for the participant, fixed when it entered
 *     ({@link Address#ZERO} for B before it accepted)
 * @param nonce nonce of the participant's proof stored while closing (0: none)
 * @param transferred transferred total of that proof
 * @param unclaimed settled payout the token refused to deliver, claimable with {@code claim}
 */
public record ChannelParticipant(Address account, Address signingKey, Amount deposit, Amount withdrawn,
                                 ChannelNonce nonce, Amount transferred, Amount unclaimed) {
}
