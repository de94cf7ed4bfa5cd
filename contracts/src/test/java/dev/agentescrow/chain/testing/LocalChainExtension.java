package dev.agentescrow.chain.testing;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployer;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.local.HardhatNode;
import java.time.Duration;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one Hardhat node on a free loopback port for the whole test run, the first time a test
 * asks for a {@link LocalChain}, waits until it answers, deploys the contract set, and stops the
 * node (with every child process) when the run ends.
 * Use with {@code @ExtendWith(LocalChainExtension.class)} and a {@code LocalChain} parameter.
 */
public final class LocalChainExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(LocalChainExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == LocalChain.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent(RunningChain.class, key -> RunningChain.start(), RunningChain.class)
                .chain();
    }

    /** The node and client, closed by JUnit when the root context closes. */
    @SuppressWarnings("deprecation")
    private record RunningChain(LocalChain chain) implements ExtensionContext.Store.CloseableResource {
        static RunningChain start() {
            HardhatNode node = HardhatNode.start(HardhatNode.locateContractsDir());
            ChainClient client = null;
            try {
                client = ChainClient.connect(ChainSettings.local(node.rpcUrl()));
                Signer admin = client.signer(DevAccounts.account(LocalChain.ADMIN));
                var plan = new Deployer.Plan(admin.address(),
                        client.signer(DevAccounts.account(LocalChain.OPERATOR)).address(),
                        client.signer(DevAccounts.account(LocalChain.FEE_RECIPIENT)).address(),
                        BasisPoints.of(100), Duration.ofDays(7));
                return new RunningChain(new LocalChain(node, client, Deployer.deployWithTestToken(client, admin, plan)));
            } catch (RuntimeException e) {
                if (client != null) {
                    client.close();
                }
                node.close();
                throw e;
            }
        }

        @Override
        public void close() {
            chain.client().close();
            chain.node().close();
        }
    }
}
