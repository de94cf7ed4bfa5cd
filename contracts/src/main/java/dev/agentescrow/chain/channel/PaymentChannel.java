package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A channel as the contract stores it.
 *
 * @param closesAt end of the challenge window, present once a unilateral close started it
 * @param closedByA whether participant A started the unilateral close (meaningless before one)
 * @param nonceFloor the nonce of the latest withdrawal; only higher proof nonces are valid
 * @param closingNonce nonce of the proof the closing balances come from (0: the deposits)
 * @param closingBalanceA what A gets on settle; B gets the rest of the funds
 */
public record PaymentChannel(
        Bytes32 channelId,
        ChannelState state,
        Address participantA,
        Address participantB,
        Address token,
        Duration challengePeriod,
        Optional<Instant> closesAt,
        boolean closedByA,
        Amount depositA,
        Amount depositB,
        Amount withdrawn,
        ChannelNonce nonceFloor,
        ChannelNonce closingNonce,
        Amount closingBalanceA) {

    /** Deposits minus withdrawals: what the channel holds while open or closing. */
    public Amount funds() {
        return depositA.plus(depositB).minus(withdrawn);
    }
}
