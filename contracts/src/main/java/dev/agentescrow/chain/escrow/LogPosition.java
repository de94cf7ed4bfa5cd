package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.TxHash;

/** Where an event was logged: exactly-once processing keys on (txHash, logIndex). */
public record LogPosition(TxHash txHash, long blockNumber, long logIndex) {
}
