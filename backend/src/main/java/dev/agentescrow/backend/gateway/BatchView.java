package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.util.OptionalLong;

/**
 * One settlement batch as the service shows it.
 *
 * @param txHash the transaction that applied it (CONFIRMED) or the one sent last, if any (else null)
 * @param gasUsed gas of the applying transaction, once confirmed
 * @param movedAmount the sum of the amounts of its movements (transfers and withdrawals)
 */
public record BatchView(long id, BatchState state, TxHash txHash, OptionalLong gasUsed, OptionalLong blockNumber,
                        int transferCount, int withdrawalCount, int accountCount, Bytes32 merkleRoot,
                        BigInteger movedAmount) {

    static BatchView of(dev.agentescrow.batcher.read.BatchView read) {
        return new BatchView(read.batchId(), read.state(),
                read.confirmedTxHash().or(read::lastSentTxHash).map(TxHash::new).orElse(null), read.gasUsed(),
                read.confirmedBlock(), read.transferCount(), read.withdrawalCount(), read.accountCount(),
                read.merkleRoot(), read.movedAmount());
    }

    /**
     * Gas per movement, once confirmed: the applying transaction's gas divided by the batch's
     * movements, transfers plus withdrawals (each is one leaf of its Merkle tree and one netted
     * delta). A withdrawal-only batch therefore shows its gas per withdrawal, not its whole gas. The
     * API names it {@code gasPerTransfer}.
     */
    public OptionalLong gasPerMovement() {
        return gasPerMovement(gasUsed, transferCount, withdrawalCount);
    }

    static OptionalLong gasPerMovement(OptionalLong gasUsed, int transferCount, int withdrawalCount) {
        int movements = transferCount + withdrawalCount;
        return gasUsed.isPresent() && movements > 0 ? OptionalLong.of(gasUsed.getAsLong() / movements)
                : OptionalLong.empty();
    }
}
