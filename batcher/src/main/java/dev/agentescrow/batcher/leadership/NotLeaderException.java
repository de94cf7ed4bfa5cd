package dev.agentescrow.batcher.leadership;

/**
 * Asked for something only the leader has (the ledger writer, settlement, the reconciler) while
 * standing by; the service forwards the request to the leader ({@code Batcher.leader()}).
 */
public final class NotLeaderException extends IllegalStateException {
    public NotLeaderException(String what) {
        super(what + " runs only on the leader; this process stands by");
    }
}
