package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;

/** One row of {@code pending_withdrawals}: a USER -> PAYOUTS transfer whose payout is not booked yet. */
public record WithdrawalRow(long seq, TransferId transferId, long accountId, Address token, BigInteger amount,
                            Instant createdAt) {
}
