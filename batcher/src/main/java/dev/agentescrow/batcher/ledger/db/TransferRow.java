package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;

/** One row of {@code transfers}: immutable once written. */
public record TransferRow(
        TransferId id,
        long seq,
        TransferKind kind,
        long debitAccountId,
        long creditAccountId,
        Address token,
        BigInteger amount,
        TransferId pendingId,
        Long timeoutSeconds,
        Instant expiresAt,
        TransferId linkGroup,
        String reference,
        Instant createdAt) {
}
