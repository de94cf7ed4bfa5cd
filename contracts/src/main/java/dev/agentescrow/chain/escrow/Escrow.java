package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An escrow as the contract holds it.
 *
 * @param fee platform fee fixed when the escrow was created
 * @param maxFee the highest fee the terms allowed
 * @param feeRecipient who accrues this escrow's fees, fixed when it was created
 * @param amount total funded (the sum of the shares)
 * @param held what the escrow still holds
 * @param arbitrationDeadline while disputed: the last second the arbiter may resolve
 */
public record Escrow(Bytes32 id, EscrowState state, Address token, Address payer, Address arbiter, Address evaluator,
                     Instant deadline, BasisPoints fee, BasisPoints maxFee, FallbackRule fallbackRule, ReleaseMode mode,
                     Bytes32 termsHash, Address feeRecipient, Amount amount, Amount held,
                     Optional<Instant> arbitrationDeadline, List<PayeePosition> payees) {
    public Escrow {
        payees = List.copyOf(payees);
    }

    /** How many payees accepted the terms. */
    public int acceptedCount() {
        return (int) payees.stream().filter(PayeePosition::accepted).count();
    }
}
