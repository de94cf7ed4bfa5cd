package dev.agentescrow.backend.idempotency;

/**
 * The claim of a request's {@code Idempotency-Key}, made together with the request's first write
 * instead of in a round trip of its own. {@link IdempotencyFilter} creates it; either the handler's
 * first statement makes it ({@link IdempotencyStore#CLAIM_CTE}, for a handler annotated
 * {@link ClaimedWithFirstWrite}), or {@link IdempotencyClaimInterceptor} makes it on its own before
 * any other handler runs. A request that writes must not write before its claim is {@link #claimed()}.
 */
public final class PendingClaim {
    enum State { PENDING, CLAIMED, TAKEN }

    private final String principal;
    private final String key;
    private final String requestHash;
    private volatile State state = State.PENDING;

    PendingClaim(String principal, String key, String requestHash) {
        this.principal = principal;
        this.key = key;
        this.requestHash = requestHash;
    }

    String principal() {
        return principal;
    }

    String key() {
        return key;
    }

    String requestHash() {
        return requestHash;
    }

    State state() {
        return state;
    }

    /** Whether this request holds the key now (its statement claimed it, or took over an abandoned claim). */
    public boolean claimed() {
        return state == State.CLAIMED;
    }

    /**
     * Records the outcome of a statement that tried to claim the key: claimed, or found it held by
     * another request (or answered already), in which case this request writes nothing and
     * {@link KeyTakenException} ends it; the filter answers with what the key's record says.
     */
    public void claimedBy(boolean claimedNow) {
        if (claimedNow) {
            state = State.CLAIMED;
        } else {
            state = State.TAKEN;
            throw new KeyTakenException();
        }
    }

    void taken() {
        state = State.TAKEN;
    }

    /** The key is held by another request or answered already: nothing was written; the filter answers. */
    public static final class KeyTakenException extends RuntimeException {
        KeyTakenException() {
            super("the Idempotency-Key is held by another request", null, false, false);
        }
    }
}
