package dev.agentescrow.backend.gateway;

/** The ledger or its database did not answer: an infrastructure failure (503), never an outcome. */
public class LedgerUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LedgerUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
