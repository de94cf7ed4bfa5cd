package dev.agentescrow.chain;

import java.util.Optional;

/**
 * A call or transaction that the contract reverted. {@link #errorName()} is the custom error's
 * name (e.g. {@code VaultBatchIdMismatch}) when the revert data matched a known error of the
 * contract, and {@link #revertData()} the raw ABI-encoded revert data.
 */
public class ContractRevertedException extends ChainException {
    private final String errorName;
    private final String revertData;

    public ContractRevertedException(String message, String errorName, String revertData) {
        super(message);
        this.errorName = errorName;
        this.revertData = revertData;
    }

    public Optional<String> errorName() {
        return Optional.ofNullable(errorName);
    }

    public Optional<String> revertData() {
        return Optional.ofNullable(revertData);
    }
}
