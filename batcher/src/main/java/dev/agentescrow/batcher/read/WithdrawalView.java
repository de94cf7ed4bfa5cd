package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;

/** A withdrawal debited from a user and not yet paid out by a confirmed batch. */
public record WithdrawalView(TransferId transferId, long seq, Address owner, Address token, BigInteger amount,
                             Instant createdAt, SettlementState state) {
}
