package dev.agentescrow.batcher.chain;

import dev.agentescrow.chain.ChainException;

/** The chain could not be reached: retries ran out, or the circuit is open and calls are not tried. */
public final class ChainUnavailableException extends ChainException {
    public ChainUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
