package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class Erc20PermitTest {
    private static final Bytes32 R = Bytes32.fromHex("0x" + "11".repeat(32));
    private static final Bytes32 S = Bytes32.fromHex("0x" + "22".repeat(32));

    @Test
    void carriesTheSignedDeadlineAsUnixSeconds() {
        Erc20Permit permit = new Erc20Permit(Amount.of(5), Instant.ofEpochSecond(1_800_000_000L), 27, R, S);

        assertThat(permit.deadlineSeconds()).isEqualTo(BigInteger.valueOf(1_800_000_000L));
    }

    @Test
    void rejectsARecoveryIdOtherThan27Or28() {
        assertThatThrownBy(() -> new Erc20Permit(Amount.of(5), Instant.ofEpochSecond(1), 0, R, S))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Erc20Permit(Amount.of(5), Instant.ofEpochSecond(1), 29, R, S))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsADeadlineBefore1970() {
        assertThatThrownBy(() -> new Erc20Permit(Amount.of(5), Instant.ofEpochSecond(-1), 28, R, S))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
