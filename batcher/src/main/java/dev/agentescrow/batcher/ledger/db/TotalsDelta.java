package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;

/** What one group adds to a row of {@code ledger_totals}. */
public record TotalsDelta(Address token, String category, long count, BigInteger amount) {
}
