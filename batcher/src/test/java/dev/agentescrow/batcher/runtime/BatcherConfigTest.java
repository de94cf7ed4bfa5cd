package dev.agentescrow.batcher.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link BatcherConfig}: the batch confirmation depth (issue 10, F8) is configured, not fixed. */
class BatcherConfigTest {
    private static final Address VAULT = Address.of("0x00000000000000000000000000000000000000aa");
    private static final SettlementAddresses SYSTEM = new SettlementAddresses(
            Address.of("0x00000000000000000000000000000000000000bb"),
            Address.of("0x00000000000000000000000000000000000000cc"));

    private static BatcherConfig defaults() {
        return BatcherConfig.defaults(DatabaseConfig.embedded(Path.of("unused")),
                ChainSettings.local("http://127.0.0.1:8545"), VAULT, 0, SYSTEM);
    }

    @Test
    void F8_batchConfirmationDepthIsConfiguredDefaultsToOneForLocalChainsAndSurvivesTheOtherWithers() {
        BatcherConfig config = defaults();
        assertThat(config.batchConfirmationDepth()).isEqualTo(BatcherConfig.DEFAULT_BATCH_CONFIRMATION_DEPTH)
                .isEqualTo(1);

        BatcherConfig deep = config.withBatchConfirmationDepth(12)
                .withConfirmations(3).withTrigger(5, Duration.ofSeconds(1))
                .withSchedule(BatcherConfig.Schedule.defaults());
        assertThat(deep.batchConfirmationDepth()).isEqualTo(12);
        assertThat(deep.confirmations()).isEqualTo(3);

        assertThatThrownBy(() -> config.withBatchConfirmationDepth(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batchConfirmationDepth");
    }

    @Test
    void F8_depositsAreHeldAtOneConfirmationAndPostedAtTwoByDefaultAndTheDepthIsNeverBelowTheHold() {
        BatcherConfig config = defaults();
        assertThat(config.confirmations()).isEqualTo(1);
        assertThat(config.depositConfirmationDepth()).isEqualTo(2);
        BatcherConfig deep = config.withDepositConfirmations(2, 12).withTrigger(5, Duration.ofSeconds(1))
                .withBatchConfirmationDepth(3);
        assertThat(deep.confirmations()).isEqualTo(2);
        assertThat(deep.depositConfirmationDepth()).isEqualTo(12);
        assertThat(config.withConfirmations(0).depositConfirmationDepth()).isZero();
        assertThatThrownBy(() -> config.withDepositConfirmations(3, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("depositConfirmationDepth");
    }
}
