package dev.agentescrow.backend.testing;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.local.HardhatNode;

/**
 * A Hardhat node of a test's own, for what must not touch the shared chain (reorganisations with
 * {@code evm_snapshot}/{@code evm_revert}); its dev accounts are the test's alone. Close it after the test.
 */
public final class OwnChain implements AutoCloseable {
    private final HardhatNode node;
    private final ChainClient client;

    private OwnChain(HardhatNode node, ChainClient client) {
        this.node = node;
        this.client = client;
    }

    public static OwnChain start() {
        HardhatNode node = HardhatNode.start(HardhatNode.locateContractsDir());
        return new OwnChain(node, ChainClient.connect(ChainSettings.local(node.rpcUrl())));
    }

    public ChainClient client() {
        return client;
    }

    @Override
    public void close() {
        client.close();
        node.close();
    }
}
