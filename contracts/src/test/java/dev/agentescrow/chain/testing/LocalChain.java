package dev.agentescrow.chain.testing;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.local.HardhatNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.web3j.protocol.core.DefaultBlockParameterName;

/**
 * A running local Hardhat node and a client connected to it, as handed to tests by
 * {@link LocalChainExtension}. One node serves the whole test run, with the contract set deployed
 * once at start ({@link #deployment()}); tests that need a pristine contract deploy their own.
 */
public final class LocalChain {
    /** Dev account that deployed the contract set and holds its admin roles. */
    public static final int ADMIN = 0;
    /** Dev account holding the vault's settlement operator role. */
    public static final int OPERATOR = 1;
    /** Dev account receiving escrow fees. */
    public static final int FEE_RECIPIENT = 2;

    private final HardhatNode node;
    private final ChainClient client;
    private final Deployment deployment;

    LocalChain(HardhatNode node, ChainClient client, Deployment deployment) {
        this.node = node;
        this.client = client;
        this.deployment = deployment;
    }

    /** The contract set deployed when the node started (admin #0, operator #1, fee recipient #2). */
    public Deployment deployment() {
        return deployment;
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
            return client.web3j().ethGetBlockByNumber(DefaultBlockParameterName.LATEST, false)
                    .send().getBlock().getTimestamp().longValueExact();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
