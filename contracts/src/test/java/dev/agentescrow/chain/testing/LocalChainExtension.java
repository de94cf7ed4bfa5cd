package dev.agentescrow.chain.testing;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.local.HardhatNode;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts one Hardhat node on a free loopback port for the whole test run, the first time a test
 * asks for a {@link LocalChain}, and stops it (with every child process) when the run ends.
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
            try {
                return new RunningChain(new LocalChain(node, ChainClient.connect(ChainSettings.local(node.rpcUrl()))));
            } catch (RuntimeException e) {
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
