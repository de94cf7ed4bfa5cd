package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import java.math.BigInteger;
import java.time.Instant;

/**
 * One committed transfer as stored (immutable).
 *
 * @param pendingId the hold a POST, VOID or EXPIRE resolves; null otherwise
 * @param expiresAt a PENDING transfer's timeout; null otherwise
 * @param reference the caller's reference; may be null
 */
public record TransferRecord(TransferId id, long seq, TransferKind kind, AccountKey debit, AccountKey credit,
                             BigInteger amount, TransferId pendingId, Instant expiresAt, String reference,
                             Instant createdAt) {
}
