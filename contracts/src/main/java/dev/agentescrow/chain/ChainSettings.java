package dev.agentescrow.chain;

import java.time.Duration;
import java.util.Objects;

/**
 * How to reach a chain and how to wait for it.
 *
 * @param rpcUrl JSON-RPC endpoint
 * @param chainId the chain id that signed transactions bind (EIP-155)
 * @param receiptPollInterval time between receipt polls; web3j's 15 s default is far too slow for a local chain
 * @param receiptTimeout how long to wait for a receipt before giving up
 */
public record ChainSettings(String rpcUrl, long chainId, Duration receiptPollInterval, Duration receiptTimeout) {
    /** Chain id of a local Hardhat or Anvil node. */
    public static final long LOCAL_CHAIN_ID = 31337;

    public ChainSettings {
        Objects.requireNonNull(rpcUrl, "rpcUrl");
        Objects.requireNonNull(receiptPollInterval, "receiptPollInterval");
        Objects.requireNonNull(receiptTimeout, "receiptTimeout");
        if (receiptPollInterval.isNegative() || receiptPollInterval.isZero()) {
            throw new IllegalArgumentException("receiptPollInterval must be positive");
        }
        if (receiptTimeout.compareTo(receiptPollInterval) < 0) {
            throw new IllegalArgumentException("receiptTimeout must be at least one poll interval");
        }
    }

    /** Settings for a local node: chain id 31337, polling every 25 ms for up to 60 s. */
    public static ChainSettings local(String rpcUrl) {
        return new ChainSettings(rpcUrl, LOCAL_CHAIN_ID, Duration.ofMillis(25), Duration.ofSeconds(60));
    }

    int receiptPollAttempts() {
        return (int) Math.max(1, receiptTimeout.toMillis() / receiptPollInterval.toMillis());
    }
}
