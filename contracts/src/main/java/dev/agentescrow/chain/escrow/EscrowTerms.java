package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a payer agrees to when funding an escrow.
 *
 * @param token the ERC-20 token escrowed
 * @param payees 1 to {@link #MAX_PAYEES} payees, addressed by their index afterwards
 * @param arbiter resolves disputes; not the zero address
 * @param evaluator may release like the payer (e.g. who confirms completion); {@link Address#ZERO} for none
 * @param deadline after it, anyone may refund what is left to the payer
 * @param mode per-payee partial releases, or atomic all-or-nothing release
 * @param termsHash hash of the off-chain terms, recorded as is
 */
public record EscrowTerms(Address token, List<Payee> payees, Address arbiter, Address evaluator, Instant deadline,
                          ReleaseMode mode, Bytes32 termsHash) {
    /** The contract's bound on payees per escrow. */
    public static final int MAX_PAYEES = 16;

    public EscrowTerms {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(arbiter, "arbiter");
        Objects.requireNonNull(evaluator, "evaluator");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(termsHash, "termsHash");
        payees = List.copyOf(payees);
        if (payees.isEmpty() || payees.size() > MAX_PAYEES) {
            throw new IllegalArgumentException("an escrow needs 1 to " + MAX_PAYEES + " payees, got " + payees.size());
        }
        if (arbiter.equals(Address.ZERO)) {
            throw new IllegalArgumentException("arbiter must not be the zero address");
        }
    }

    /** The sum of the shares: what funding the escrow costs the payer. */
    public Amount total() {
        return payees.stream().map(Payee::share).reduce(Amount.ZERO, Amount::plus);
    }
}
