package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a payer proposes when funding an escrow, and what every payee accepts.
 *
 * @param token the ERC-20 token escrowed
 * @param payees 1 to {@link #MAX_PAYEES} payees, addressed by their index afterwards
 * @param arbiter resolves disputes; not the zero address, the payer or a payee
 * @param evaluator may release like the payer (e.g. who confirms completion); not the zero
 *                  address (the payer itself for none)
 * @param deadline after it the payer may refund what is left; after the grace period anyone may
 * @param maxFee the highest platform fee the payer accepts; the create fails if the fee is higher
 * @param fallbackRule applied to a dispute that the arbiter leaves undecided past its deadline
 * @param mode per-payee partial releases, or atomic all-or-nothing release
 * @param termsHash hash of the off-chain terms, recorded as is
 */
public record EscrowTerms(Address token, List<Payee> payees, Address arbiter, Address evaluator, Instant deadline,
                          BasisPoints maxFee, FallbackRule fallbackRule, ReleaseMode mode, Bytes32 termsHash) {
    /** The contract's bound on payees per escrow. */
    public static final int MAX_PAYEES = 16;

    public EscrowTerms {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(arbiter, "arbiter");
        Objects.requireNonNull(evaluator, "evaluator");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(maxFee, "maxFee");
        Objects.requireNonNull(fallbackRule, "fallbackRule");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(termsHash, "termsHash");
        payees = List.copyOf(payees);
        if (payees.isEmpty() || payees.size() > MAX_PAYEES) {
            throw new IllegalArgumentException("an escrow needs 1 to " + MAX_PAYEES + " payees, got " + payees.size());
        }
        if (token.equals(Address.ZERO)) {
            throw new IllegalArgumentException("token must not be the zero address");
        }
        if (arbiter.equals(Address.ZERO)) {
            throw new IllegalArgumentException("arbiter must not be the zero address");
        }
        if (evaluator.equals(Address.ZERO)) {
            throw new IllegalArgumentException("evaluator must not be the zero address (use the payer for none)");
        }
        if (payees.stream().anyMatch(p -> p.account().equals(arbiter))) {
            throw new IllegalArgumentException("the arbiter must not be a payee");
        }
    }

    /** The sum of the shares: what funding the escrow costs the payer. */
    public Amount total() {
        return payees.stream().map(Payee::share).reduce(Amount.ZERO, Amount::plus);
    }
}
