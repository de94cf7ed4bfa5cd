package dev.agentescrow.batcher.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import org.junit.jupiter.api.Test;

class SignerLanesTest {
    private static Signer key(int devAccount) {
        return new Signer(DevAccounts.account(devAccount), null, null);
    }

    @Test
    void eachKindSignsWithAKeyOfItsOwn() {
        SignerLanes lanes = SignerLanes.of(new SignerLane(SignerLane.SETTLEMENT, key(19)))
                .with(new SignerLane("watchtower", key(17)));
        assertThat(lanes.lane("watchtower").address()).isEqualTo(key(17).address());
        assertThat(lanes.all()).extracting(SignerLane::kind).containsExactly("settlement", "watchtower");
        assertThatThrownBy(() -> lanes.lane("arbiter")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoKindsOnOneKeyAreRefusedSinceOneStuckTransactionWouldHoldBackTheOther() {
        SignerLanes lanes = SignerLanes.of(new SignerLane(SignerLane.SETTLEMENT, key(19)));
        assertThatThrownBy(() -> lanes.with(new SignerLane("watchtower", key(19))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key of lane settlement");
        assertThatThrownBy(() -> lanes.with(new SignerLane(SignerLane.SETTLEMENT, key(17))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SignerLane("Watch Tower", key(17))).isInstanceOf(IllegalArgumentException.class);
    }
}
