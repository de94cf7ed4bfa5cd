package dev.agentescrow.batcher.ledger;

/**
 * An infrastructure failure: the database is unreachable, a commit failed, the ledger is
 * closed or overloaded, or another process holds the writer lock. The outcome of the affected
 * transfers is unknown to the caller; resubmitting them with the same ids is always safe.
 */
public class LedgerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LedgerException(String message) {
        super(message);
    }

    public LedgerException(String message, Throwable cause) {
        super(message, cause);
    }
}
