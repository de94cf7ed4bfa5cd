package dev.agentescrow.chain;

import java.util.Comparator;
import java.util.Objects;
import org.web3j.protocol.core.methods.response.Log;

/**
 * Where an event was logged: exactly-once processing keys on (txHash, logIndex); {@code blockHash}
 * names the block the log was read from, so that a consumer can tell whether that block is still
 * on the canonical chain after a reorganisation.
 */
public record LogPosition(TxHash txHash, long blockNumber, long logIndex, Bytes32 blockHash) {
    /** Chain order: by block, then by index within the block. */
    public static final Comparator<LogPosition> CHAIN_ORDER =
            Comparator.comparingLong(LogPosition::blockNumber).thenComparingLong(LogPosition::logIndex);

    public LogPosition {
        Objects.requireNonNull(txHash, "txHash");
        Objects.requireNonNull(blockHash, "blockHash");
    }

    /** The position of a mined {@code log} (one of a pending block has none). */
    public static LogPosition of(Log log) {
        if (log.getTransactionHash() == null || log.getBlockNumberRaw() == null || log.getLogIndexRaw() == null
                || log.getBlockHash() == null) {
            throw new ChainException("log of a pending block has no position: " + log);
        }
        return new LogPosition(new TxHash(log.getTransactionHash()), log.getBlockNumber().longValueExact(),
                log.getLogIndex().longValueExact(), Bytes32.fromHex(log.getBlockHash()));
    }
}
