package dev.agentescrow.batcher.ledger.db;

import java.math.BigInteger;

/**
 * A committed transfer found by id, with the amount of the pending transfer it resolves (null
 * unless it is a POST, VOID or EXPIRE).
 */
public record ExistingTransfer(TransferRow row, BigInteger pendingAmount) {
}
