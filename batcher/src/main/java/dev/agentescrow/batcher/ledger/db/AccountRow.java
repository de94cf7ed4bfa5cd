package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.AccountKey;
import java.math.BigInteger;
import java.time.Instant;

/** One row of {@code accounts}. */
public record AccountRow(
        long id,
        AccountKey key,
        BigInteger debitsPosted,
        BigInteger creditsPosted,
        BigInteger debitsPending,
        BigInteger creditsPending,
        Instant createdAt) {
}
