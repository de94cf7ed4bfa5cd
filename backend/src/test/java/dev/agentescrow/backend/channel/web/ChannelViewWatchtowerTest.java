package dev.agentescrow.backend.channel.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** An agent is told it is defended only when it opted in and the service's watchtower runs with a key. */
class ChannelViewWatchtowerTest {
    private static final Address TOWER = Address.of("0xbDA5747bFD65F08deb54cb465eB87D40e51B197E");

    @Test
    void defended_only_when_registered_opted_in_and_the_watchtower_runs() {
        var defended = ChannelView.Watchtower.of(true, true, true, Optional.of(TOWER), List.of());
        assertThat(defended.defended()).isTrue();
        assertThat(defended.active()).isTrue();
        assertThat(defended.address()).isEqualTo(TOWER.checksummed());

        var switchedOff = ChannelView.Watchtower.of(true, true, false, Optional.of(TOWER), List.of());
        assertThat(switchedOff.enabled()).as("the agent's own choice still shows").isTrue();
        assertThat(switchedOff.active()).isFalse();
        assertThat(switchedOff.defended()).isFalse();
        assertThat(switchedOff.address()).as("no address of a watchtower that does not run").isNull();

        var noKey = ChannelView.Watchtower.of(true, true, true, Optional.empty(), List.of());
        assertThat(noKey.active()).isFalse();
        assertThat(noKey.defended()).isFalse();

        var optedOut = ChannelView.Watchtower.of(true, false, true, Optional.of(TOWER), List.of());
        assertThat(optedOut.defended()).isFalse();
        assertThat(optedOut.active()).isTrue();

        var unregistered = ChannelView.Watchtower.of(false, true, true, Optional.of(TOWER), List.of());
        assertThat(unregistered.enabled()).isFalse();
        assertThat(unregistered.defended()).isFalse();
    }
}
