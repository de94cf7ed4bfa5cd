package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.local.HardhatNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The node harness itself: a node of its own, frozen and continued with its state intact. */
class HardhatNodeIT {

    @Test
    void aSuspendedNodeAnswersNothingAndResumesWithItsState() throws Exception {
        try (HardhatNode node = HardhatNode.start(HardhatNode.locateContractsDir());
             ChainClient client = ChainClient.connect(ChainSettings.local(node.rpcUrl()))) {
            client.rawRequest("evm_mine", List.of());
            long before = client.blockNumber();

            node.suspend();
            CompletableFuture<Long> pending = CompletableFuture.supplyAsync(client::blockNumber);
            assertThatThrownBy(() -> pending.get(500, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

            node.resume();
            assertThat(pending.get(10, TimeUnit.SECONDS)).isEqualTo(before);
            client.rawRequest("evm_mine", List.of());
            assertThat(client.blockNumber()).isEqualTo(before + 1);
        }
    }

    @Test
    void closingASuspendedNodeStopsItPromptly() {
        HardhatNode node = HardhatNode.start(HardhatNode.locateContractsDir());
        node.suspend();
        node.close();
        assertThat(node.isAlive()).isFalse();
    }
}
