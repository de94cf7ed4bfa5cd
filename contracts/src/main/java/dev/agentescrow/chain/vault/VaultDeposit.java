package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.LogPosition;

/**
 * A {@code Deposited} event: {@code account} deposited {@code amount} of {@code token}. The
 * off-chain ledger credits each deposit exactly once per {@code position} (txHash, logIndex).
 *
 * @param accountId the account's id in the vault's batch encoding
 */
public record VaultDeposit(Address token, Address account, long accountId, Amount amount, LogPosition position) {
}
