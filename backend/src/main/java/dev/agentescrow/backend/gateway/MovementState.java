package dev.agentescrow.backend.gateway;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a committed movement is on its way to the chain.
 *
 * @param batchId the batch holding it (BATCHED, SETTLED)
 * @param settled its proof and transaction, once SETTLED
 */
public record MovementState(Stage stage, OptionalLong batchId, Optional<SettledMovement> settled) {
    public enum Stage { COMMITTED, BATCHED, SETTLED }

    public static MovementState committed() {
        return new MovementState(Stage.COMMITTED, OptionalLong.empty(), Optional.empty());
    }
}
