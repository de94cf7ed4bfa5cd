package dev.agentescrow.backend.escrow;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Chain-custody escrows' settings, bound from {@code agentescrow.escrow.chain.*}.
 *
 * @param enabled whether {@code custody: "chain"} is offered (also needs the deployment's TaskEscrow)
 * @param startBlock the block the TaskEscrow was deployed in (the follower reads from there)
 * @param arbiterPrivateKey the service's arbiter key (hex), or blank; with it the service sends the
 *                          resolutions of chain escrows whose arbiter is this key's address
 * @param arbiterKeystore a keystore file with the arbiter's key instead
 * @param feeRecipientPrivateKey the key of the TaskEscrow's fee recipient (hex), or blank: the fee sweep
 *                               claims and deposits with it; without it (or if it is not the contract's fee
 *                               recipient) fees stay in the contract and the service says so in its log
 * @param feeRecipientKeystore a keystore file with the fee recipient's key instead
 * @param permitValidity how long the permit a create returns stays valid
 * @param feeSweepInterval how often the leader claims accrued fees and carries them into the ledger
 * @param sendTimeout how long the service waits for one of its own transactions to be mined
 * @param keeperPrivateKey the keeper's key (hex), or blank: with it the service sends the refund of a
 *                         chain escrow after its grace period and the fallback after its arbitration
 *                         deadline when no party did (its own nonce lane: give it ETH for gas only)
 * @param keeperKeystore a keystore file with the keeper's key instead
 * @param keeperInterval how often the leader runs the keeper (funding expiries, refunds, fallbacks)
 * @param keeperLag how long after a deadline (by block time) the keeper waits, so a party's own call comes first
 */
@ConfigurationProperties("agentescrow.escrow.chain")
public record ChainEscrowSettings(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("0") long startBlock,
        String arbiterPrivateKey,
        String arbiterKeystore,
        String arbiterKeystorePassword,
        String feeRecipientPrivateKey,
        String feeRecipientKeystore,
        String feeRecipientKeystorePassword,
        @DefaultValue("PT1H") Duration permitValidity,
        @DefaultValue("PT30S") Duration feeSweepInterval,
        @DefaultValue("PT60S") Duration sendTimeout,
        String keeperPrivateKey,
        String keeperKeystore,
        String keeperKeystorePassword,
        @DefaultValue("PT10S") Duration keeperInterval,
        @DefaultValue("PT60S") Duration keeperLag) {
}
