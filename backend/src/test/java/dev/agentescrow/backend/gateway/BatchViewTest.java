package dev.agentescrow.backend.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** {@code gasPerTransfer} of the batch endpoints is gas per movement (transfers plus withdrawals). */
class BatchViewTest {

    @Test
    void aWithdrawalOnlyBatchShowsGasPerWithdrawal_notItsWholeGas() {
        assertThat(BatchView.gasPerMovement(OptionalLong.of(90_000), 0, 3)).hasValue(30_000);
    }

    @Test
    void transfersAndWithdrawalsCountAlike_andNothingBeforeConfirmation() {
        assertThat(BatchView.gasPerMovement(OptionalLong.of(100_000), 3, 1)).hasValue(25_000);
        assertThat(BatchView.gasPerMovement(OptionalLong.of(100_001), 2, 0)).hasValue(50_000);
        assertThat(BatchView.gasPerMovement(OptionalLong.empty(), 2, 1)).isEmpty();
        assertThat(BatchView.gasPerMovement(OptionalLong.of(50_000), 0, 0)).isEmpty();
    }
}
