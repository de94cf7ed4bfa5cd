package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.time.Instant;

/**
 * One booking of a custody event by the vault indexer (a row of {@code indexer_custody_holds}): one
 * inclusion of a deposit or escape in a block. A deposit re-mined after a reorganisation has a
 * VOIDED booking per block it left and at most one live one (PENDING, POSTED or REJECTED).
 *
 * @param ordinal     the event's place among its transaction's events of its kind
 * @param incarnation how many bookings of the same event came before this one
 * @param logIndex    the event's block-wide log index in the block of this booking
 */
public record CustodyHoldView(CustodyEvent.Kind kind, TxHash txHash, int ordinal, int incarnation, long blockNumber,
                              long logIndex, Address token, Address account, BigInteger amount,
                              CustodyHold.State state, Instant updatedAt) {

    /** Whether this booking stands (PENDING, POSTED or REJECTED) rather than being voided by a reorganisation. */
    public boolean live() {
        return state != CustodyHold.State.VOIDED;
    }
}
