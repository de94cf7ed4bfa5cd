package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One netted batch as the off-chain batcher builds it: per token, the signed net change of every
 * account (summing to zero) and the payouts (withdrawals) that debit an account and send tokens
 * to a recipient. {@link SettlementVaultGateway#settleBatch} packs it into the vault's calldata.
 *
 * @param batchId the vault's next batch id ({@code lastBatchId + 1}); strictly sequential
 * @param merkleRoot root of the batch's transfers (OpenZeppelin StandardMerkleTree, leaf types
 *     {@code bytes32 transferId, address token, address from, address to, uint256 amount})
 * @param tokens one entry per token, each token at most once
 */
public record SettlementBatch(long batchId, Bytes32 merkleRoot, List<TokenSettlement> tokens) {
    /** Upper bound of one delta or payout amount in the packed encoding: 2^128 - 1. */
    public static final BigInteger MAX_ENTRY_AMOUNT = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
    /** The vault's {@code MAX_BATCH_ENTRIES}: deltas plus payouts per batch. */
    public static final int MAX_ENTRIES = 1_024;
    /** The vault's {@code MAX_BATCH_PAYOUTS}. */
    public static final int MAX_PAYOUTS = 64;
    /** The vault's {@code MAX_BATCH_TOKENS}. */
    public static final int MAX_TOKENS = 32;

    public SettlementBatch {
        if (batchId <= 0) {
            throw new IllegalArgumentException("batchId must be positive: " + batchId);
        }
        Objects.requireNonNull(merkleRoot, "merkleRoot");
        tokens = List.copyOf(tokens);
        if (tokens.size() > MAX_TOKENS) {
            throw new IllegalArgumentException("batch " + batchId + " has " + tokens.size() + " tokens, max " + MAX_TOKENS);
        }
        int entries = tokens.stream().mapToInt(t -> t.deltas().size() + t.payouts().size()).sum();
        int payouts = tokens.stream().mapToInt(t -> t.payouts().size()).sum();
        if (entries > MAX_ENTRIES || payouts > MAX_PAYOUTS) {
            throw new IllegalArgumentException("batch " + batchId + " has " + entries + " entries and " + payouts
                    + " payouts, max " + MAX_ENTRIES + " and " + MAX_PAYOUTS);
        }
        Set<Address> seen = new HashSet<>();
        for (TokenSettlement token : tokens) {
            if (!seen.add(token.token())) {
                throw new IllegalArgumentException("token appears twice in batch " + batchId + ": " + token.token());
            }
        }
    }

    /** Number of deltas and payouts, the figure the vault bounds per batch. */
    public int entryCount() {
        return tokens.stream().mapToInt(t -> t.deltas().size() + t.payouts().size()).sum();
    }

    /**
     * The settlement of one token.
     *
     * @param deltas net change per account; the signed deltas must sum to zero
     * @param payouts withdrawals, each debiting {@code account} on top of its delta
     */
    public record TokenSettlement(Address token, List<Delta> deltas, List<Payout> payouts) {
        public TokenSettlement {
            Objects.requireNonNull(token, "token");
            deltas = List.copyOf(deltas);
            payouts = List.copyOf(payouts);
            BigInteger sum = deltas.stream().map(Delta::signedDelta).reduce(BigInteger.ZERO, BigInteger::add);
            if (sum.signum() != 0) {
                throw new IllegalArgumentException("deltas of " + token + " sum to " + sum + ", not zero");
            }
        }
    }

    /** The signed net change of {@code account}'s settled balance. */
    public record Delta(Address account, BigInteger signedDelta) {
        public Delta {
            Objects.requireNonNull(account, "account");
            Objects.requireNonNull(signedDelta, "signedDelta");
            if (signedDelta.abs().compareTo(MAX_ENTRY_AMOUNT) > 0) {
                throw new IllegalArgumentException("delta exceeds 2^128 - 1: " + signedDelta);
            }
        }
    }

    /**
     * A withdrawal: debits {@code account} by {@code amount} and sends it to {@code recipient}. With
     * {@code servesForcedWithdrawal}, it serves the account's open forced withdrawal instead:
     * {@code amount} is the requested amount, {@code recipient} the account, and the vault pays the
     * lesser of the request and the balance after the section's deltas (see ISettlementVault).
     */
    public record Payout(Address account, Address recipient, Amount amount, boolean servesForcedWithdrawal) {
        /** An ordinary withdrawal. */
        public Payout(Address account, Address recipient, Amount amount) {
            this(account, recipient, amount, false);
        }

        /** Serves {@code account}'s forced withdrawal of {@code requested}. */
        public static Payout servingForcedWithdrawal(Address account, Amount requested) {
            return new Payout(account, account, requested, true);
        }

        public Payout {
            Objects.requireNonNull(account, "account");
            Objects.requireNonNull(recipient, "recipient");
            Objects.requireNonNull(amount, "amount");
            if (amount.isZero() || amount.baseUnits().compareTo(MAX_ENTRY_AMOUNT) > 0) {
                throw new IllegalArgumentException("payout must be in [1, 2^128 - 1]: " + amount);
            }
            if (recipient.equals(Address.ZERO)) {
                throw new IllegalArgumentException("payout recipient must not be the zero address");
            }
            if (servesForcedWithdrawal && !recipient.equals(account)) {
                throw new IllegalArgumentException("a forced withdrawal is paid to its account, not " + recipient);
            }
        }
    }
}
