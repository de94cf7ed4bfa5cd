package dev.agentescrow.batcher.settlement;

/**
 * The chain and the submitter's records disagree in a way no retry can fix (e.g. the vault applied
 * a batch id with a Merkle root other than the stored one, or the stored batches are ahead of the
 * vault). The submitter stops settling until a person has looked: it never accepts such a state silently.
 */
public final class SettlementInconsistencyException extends IllegalStateException {
    public SettlementInconsistencyException(String message) {
        super(message);
    }
}
