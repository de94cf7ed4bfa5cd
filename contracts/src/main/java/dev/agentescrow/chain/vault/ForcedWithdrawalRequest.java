package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.LogPosition;
import java.time.Instant;

/**
 * A {@code ForcedWithdrawalRequested} event: {@code account} (vault id {@code accountId}) asked on
 * chain to withdraw {@code amount} of {@code token}; a batch must serve it by {@code deadline}, else
 * anyone may freeze the vault.
 */
public record ForcedWithdrawalRequest(Address token, Address account, long accountId, Amount amount, Instant deadline,
                                      LogPosition position) {
}
