package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.LogPosition;

/**
 * A payout of batch {@code batchId}: {@code amount} of {@code token} debited from account
 * {@code accountId} for {@code recipient}, either sent or kept as a pending payout the recipient
 * can claim.
 */
public record VaultPayout(long batchId, Address token, Address recipient, long accountId, Amount amount,
                          Outcome outcome, LogPosition position) {
    /** What happened to the tokens of a payout. */
    public enum Outcome {
        /** The token transfer to the recipient succeeded ({@code PayoutSent}). */
        SENT,
        /** The token refused it; the amount is claimable with {@code claimPayout} ({@code PayoutDeferred}). */
        DEFERRED
    }
}
