package dev.agentescrow.batcher.read;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * Where a transfer is on its way to the chain, without its proof: {@link LedgerReads#settlementStates}.
 *
 * @param batchId the batch that holds it (BATCHED, SETTLED)
 */
public record SettlementStatus(SettlementState state, OptionalLong batchId) {
    public SettlementStatus {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(batchId, "batchId");
    }
}
