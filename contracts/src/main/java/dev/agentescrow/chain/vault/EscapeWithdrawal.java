package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.LogPosition;

/**
 * An {@code EscapeWithdrawn} event: {@code account} took its whole settled {@code amount} of
 * {@code token} out without the operator; the off-chain ledger must debit it.
 */
public record EscapeWithdrawal(Address token, Address account, Amount amount, LogPosition position) {
}
