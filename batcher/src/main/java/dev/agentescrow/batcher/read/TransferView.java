package dev.agentescrow.batcher.read;

import dev.agentescrow.batcher.settlement.InclusionProof;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A transfer with its settlement state: the batch that claims it (open or confirmed) and, once
 * that batch is confirmed, the inclusion proof of its movement.
 */
public record TransferView(TransferRecord transfer, SettlementState state, OptionalLong batchId,
                           Optional<InclusionProof> proof) {
    public TransferView {
        Objects.requireNonNull(transfer, "transfer");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(batchId, "batchId");
        Objects.requireNonNull(proof, "proof");
    }
}
