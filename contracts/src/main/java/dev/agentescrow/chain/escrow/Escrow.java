package dev.agentescrow.chain.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.time.Instant;
import java.util.List;

/**
 * An escrow as the contract holds it.
 *
 * @param fee platform fee fixed when the escrow was created
 * @param amount total funded (the sum of the shares)
 * @param held what the escrow still holds
 */
public record Escrow(Bytes32 id, EscrowState state, Address token, Address payer, Address arbiter, Address evaluator,
                     Instant deadline, BasisPoints fee, ReleaseMode mode, Bytes32 termsHash, Amount amount,
                     Amount held, List<PayeePosition> payees) {
    public Escrow {
        payees = List.copyOf(payees);
    }
}
