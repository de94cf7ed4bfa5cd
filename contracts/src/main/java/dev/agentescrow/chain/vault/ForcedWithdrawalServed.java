package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.LogPosition;

/**
 * A {@code ForcedWithdrawalServed} event: batch {@code batchId} served {@code account}'s forced
 * withdrawal of {@code requested} {@code token} by paying out {@code paid} (the lesser of the
 * request and the account's balance after the batch's deltas).
 */
public record ForcedWithdrawalServed(long batchId, Address token, Address account, Amount requested, Amount paid,
                                     LogPosition position) {
}
