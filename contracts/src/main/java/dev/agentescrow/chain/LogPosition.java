package dev.agentescrow.chain;

import java.util.Comparator;
import java.util.Objects;
import org.web3j.protocol.core.methods.response.Log;

/** Where an event was logged: exactly-once processing keys on (txHash, logIndex). */
public record LogPosition(TxHash txHash, long blockNumber, long logIndex) {
    /** Chain order: by block, then by index within the block. */
    public static final Comparator<LogPosition> CHAIN_ORDER =
            Comparator.comparingLong(LogPosition::blockNumber).thenComparingLong(LogPosition::logIndex);

    public LogPosition {
        Objects.requireNonNull(txHash, "txHash");
    }

    /** The position of a mined {@code log} (one of a pending block has none). */
    public static LogPosition of(Log log) {
        if (log.getTransactionHash() == null || log.getBlockNumberRaw() == null || log.getLogIndexRaw() == null) {
            throw new ChainException("log of a pending block has no position: " + log);
        }
        return new LogPosition(new TxHash(log.getTransactionHash()), log.getBlockNumber().longValueExact(),
                log.getLogIndex().longValueExact());
    }
}
