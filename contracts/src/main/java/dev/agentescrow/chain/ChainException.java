package dev.agentescrow.chain;

/** An infrastructure failure talking to the chain: transport errors, timeouts, rejected sends. */
public class ChainException extends RuntimeException {
    public ChainException(String message) {
        super(message);
    }

    public ChainException(String message, Throwable cause) {
        super(message, cause);
    }
}
