package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.TxHash;

/**
 * A {@code Deposited} event: {@code account} deposited {@code amount} of {@code token}. The
 * off-chain ledger credits each deposit exactly once per ({@code txHash}, {@code logIndex}).
 *
 * @param accountId the account's id in the vault's batch encoding
 */
public record VaultDeposit(Address token, Address account, long accountId, Amount amount, TxHash txHash,
                           long logIndex, long blockNumber) {
}
