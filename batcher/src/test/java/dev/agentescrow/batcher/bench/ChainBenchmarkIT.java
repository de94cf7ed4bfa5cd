package dev.agentescrow.batcher.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.local.HardhatNode;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The chain half of {@code scripts/bench-ledger} with tiny counts, so that the harness keeps
 * working: it must confirm every individual send without a nonce error (two threads per key) and
 * settle every micropayment in the expected number of batches, with the on-chain balances checked
 * by the harness itself. Timing targets are not asserted.
 */
class ChainBenchmarkIT {

    @Test
    void chainHalfSettlesEveryTransferAndSendsWithoutNonceErrors() {
        ChainBenchmark.Config config = new ChainBenchmark.Config(2, 3, 20, Duration.ofSeconds(60), 20, 300, 100,
                List.of(150), 20261122L);

        ChainBenchmark.Result result = ChainBenchmark.run(HardhatNode.locateContractsDir(), config);

        assertThat(result.sends().confirmed()).isEqualTo(20);
        assertThat(result.sends().threads()).isEqualTo(6);
        assertThat(result.sends().nonceErrors()).isZero();
        assertThat(result.sends().tps()).isPositive();
        assertThat(result.sends().gasUsed()).isPositive();
        assertThat(result.defaultTrigger().transfers()).isEqualTo(300);
        assertThat(result.defaultTrigger().batches()).isEqualTo(3);
        assertThat(result.defaultTrigger().tps()).isPositive();
        assertThat(result.defaultTrigger().gasUsed()).isPositive();
        assertThat(result.defaultTrigger().path()).isEqualTo(ChainBenchmark.SendPath.SUBMITTER);
        assertThat(result.defaultTriggerViaWrapper().path()).isEqualTo(ChainBenchmark.SendPath.WRAPPER);
        assertThat(result.defaultTriggerViaWrapper().batches()).isEqualTo(3);
        assertThat(result.defaultTriggerViaWrapper().gasUsed()).isPositive();
        assertThat(result.otherTriggers()).singleElement().satisfies(run -> {
            assertThat(run.transfers()).isEqualTo(300);
            assertThat(run.batches()).isEqualTo(2);
        });
        assertThat(result.largestBatches().transfers()).isEqualTo(300);
        assertThat(result.largestBatches().batches()).isEqualTo(1);
        assertThat(result.largestBatches().maxEntries()).isLessThanOrEqualTo(20);
        assertThat(result.largestBatches().tps()).isPositive();
    }

    @Test
    void nonceRefusalsAreRecognised() {
        assertThat(ChainBenchmark.isNonceError(new IllegalStateException("wrap",
                new RuntimeException("Nonce too high. Expected nonce to be 3 but got 5.")))).isTrue();
        assertThat(ChainBenchmark.isNonceError(new RuntimeException("already known"))).isTrue();
        assertThat(ChainBenchmark.isNonceError(new RuntimeException("replacement transaction underpriced"))).isTrue();
        assertThat(ChainBenchmark.isNonceError(new RuntimeException("execution reverted"))).isFalse();
    }
}
