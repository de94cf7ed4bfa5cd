package dev.agentescrow.chain.testing;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.local.HardhatNode;
import java.util.List;

/**
 * A running local Hardhat node and a client connected to it, as handed to tests by
 * {@link LocalChainExtension}. One node serves the whole test run; tests isolate themselves by
 * deploying their own contracts.
 */
public final class LocalChain {
    private final HardhatNode node;
    private final ChainClient client;

    LocalChain(HardhatNode node, ChainClient client) {
        this.node = node;
        this.client = client;
    }

    public String rpcUrl() {
        return node.rpcUrl();
    }

    public HardhatNode node() {
        return node;
    }

    public ChainClient client() {
        return client;
    }

    /** The signer of funded dev account {@code index}. */
    public Signer account(int index) {
        return client.signer(DevAccounts.account(index));
    }

    /** Moves the chain's clock forward and mines a block. */
    public void increaseTime(long seconds) {
        client.rawRequest("evm_increaseTime", List.of(seconds));
        client.rawRequest("evm_mine", List.of());
    }

    /** Timestamp of the latest block, in seconds. */
    public long latestTimestamp() {
        try {
            return client.web3j().ethGetBlockByNumber(org.web3j.protocol.core.DefaultBlockParameterName.LATEST, false)
                    .send().getBlock().getTimestamp().longValueExact();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
