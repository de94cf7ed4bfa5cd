package dev.agentescrow.backend.channel;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Payment channels' settings, bound from {@code agentescrow.channels.*}.
 *
 * @param contract the PaymentChannels address (blank: {@code contracts.PaymentChannels} of the deployment file)
 * @param deploymentBlock the block the contract was deployed in (the indexer starts there)
 * @param pollInterval how often the leader runs the watchtower (the events are read by the
 *     contract-log follower, {@code agentescrow.chainlog.*})
 * @param watchtowerEnabled whether the leader defends registered participants at all
 * @param watchtowerPrivateKey the watchtower's own key (hex), used by no other role
 * @param watchtowerKeystore a web3j/geth keystore file with the watchtower's key, or blank
 * @param watchtowerKeystorePassword the keystore's password
 */
@ConfigurationProperties("agentescrow.channels")
public record ChannelSettings(
        String contract,
        @DefaultValue("0") long deploymentBlock,
        @DefaultValue("PT1S") Duration pollInterval,
        @DefaultValue("true") boolean watchtowerEnabled,
        String watchtowerPrivateKey,
        String watchtowerKeystore,
        String watchtowerKeystorePassword) {
}
