package dev.agentescrow.backend.chainlog;

import dev.agentescrow.chain.LogPosition;
import java.util.Objects;
import org.web3j.protocol.core.methods.response.Log;

/**
 * One confirmed log of a followed contract: the raw log (decode it with the contract's wrapper)
 * and where it was logged. {@link #key()} ({@code txHash:logIndex}) is the natural key to apply and
 * publish it exactly once.
 */
public record ChainLog(Log log, LogPosition position) {
    public ChainLog {
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(position, "position");
    }

    public static ChainLog of(Log log) {
        return new ChainLog(log, LogPosition.of(log));
    }

    public long blockNumber() {
        return position.blockNumber();
    }

    /** {@code <tx hash>:<log index>}: the key of this event for exactly-once effects. */
    public String key() {
        return position.txHash().value() + ":" + position.logIndex();
    }
}
