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
 * @param proofQueueCapacity how many balance proofs of one channel may wait for their group commit on
 *     this instance (beyond: 503 {@code CHANNEL_PROOFS_BUSY}); eight times as many on the instance
 * @param proofGroupMax the most proofs of one channel written in one transaction
 * @param proofReceiptRetention how long the receipt of an accepted proof is kept to answer its replay
 *     (at least a day; the newest proof of each direction answers its replay for as long as it is the newest)
 * @param proofReceiptRetentionInterval how often the receipts older than that are deleted
 */
@ConfigurationProperties("agentescrow.channels")
public record ChannelSettings(
        String contract,
        @DefaultValue("0") long deploymentBlock,
        @DefaultValue("PT1S") Duration pollInterval,
        @DefaultValue("true") boolean watchtowerEnabled,
        String watchtowerPrivateKey,
        String watchtowerKeystore,
        String watchtowerKeystorePassword,
        @DefaultValue("4096") int proofQueueCapacity,
        @DefaultValue("1024") int proofGroupMax,
        @DefaultValue("P1D") Duration proofReceiptRetention,
        @DefaultValue("PT1M") Duration proofReceiptRetentionInterval) {

    public ChannelSettings {
        if (proofReceiptRetention.compareTo(Duration.ofDays(1)) < 0) {
            throw new IllegalArgumentException("agentescrow.channels.proof-receipt-retention must be at least a day (P1D)");
        }
        if (proofReceiptRetentionInterval.isNegative() || proofReceiptRetentionInterval.isZero()) {
            throw new IllegalArgumentException("agentescrow.channels.proof-receipt-retention-interval must be positive");
        }
    }
}
