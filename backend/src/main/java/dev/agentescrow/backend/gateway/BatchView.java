package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.util.OptionalLong;

/**
 * One settlement batch as the service shows it.
 *
 * @param txHash the transaction that applied it (CONFIRMED) or the one sent last, if any
 * @param gasUsed gas of the applying transaction, once confirmed
 * @param movedAmount the sum of the amounts of its movements (transfers and withdrawals)
 */
public record BatchView(long id, BatchState state, TxHash txHash, OptionalLong gasUsed, OptionalLong blockNumber,
                        int transferCount, int withdrawalCount, int accountCount, Bytes32 merkleRoot,
                        BigInteger movedAmount) {

    /** Gas per movement, once confirmed. */
    public OptionalLong gasPerTransfer() {
        int movements = transferCount + withdrawalCount;
        return gasUsed.isPresent() && movements > 0 ? OptionalLong.of(gasUsed.getAsLong() / movements)
                : OptionalLong.empty();
    }
}
