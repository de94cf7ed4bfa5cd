package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Receipt;

/**
 * The id of an escrow just created (the payer's task id bound to the payer, see
 * {@link TaskEscrowGateway#escrowId(dev.agentescrow.chain.Address, TaskId)}) and the receipt of the
 * transaction that created it.
 */
public record CreatedEscrow(Bytes32 id, Receipt receipt) {
}
