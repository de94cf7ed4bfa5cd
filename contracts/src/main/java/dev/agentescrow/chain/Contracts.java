package dev.agentescrow.chain;

import dev.agentescrow.chain.wrappers.IERC20;
import dev.agentescrow.chain.wrappers.PaymentChannels;
import dev.agentescrow.chain.wrappers.SettlementVault;
import dev.agentescrow.chain.wrappers.TaskEscrow;
import dev.agentescrow.chain.wrappers.TestToken;
import java.util.List;

/** The generated wrappers whose custom errors the gateway decodes. */
final class Contracts {
    static final List<Class<?>> WRAPPERS = List.of(
            IERC20.class,
            TestToken.class,
            SettlementVault.class,
            TaskEscrow.class,
            PaymentChannels.class);

    private Contracts() {
    }
}
