package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferId;
import java.math.BigInteger;
import java.time.Instant;

/** An open hold (a pending transfer not yet posted, voided or expired). */
public record HoldView(TransferId pendingId, long seq, AccountKey debit, AccountKey credit, BigInteger amount,
                       Instant expiresAt, Instant createdAt) {
}
