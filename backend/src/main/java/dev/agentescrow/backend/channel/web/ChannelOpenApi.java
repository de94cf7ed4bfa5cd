package dev.agentescrow.backend.channel.web;

import dev.agentescrow.backend.common.web.FeatureOpenApi;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/** The channel endpoints' problem codes, added to the document's {@code x-error-codes}. */
@Configuration(proxyBeanMethods = false)
public class ChannelOpenApi {
    static final Map<String, String> CODES = Map.ofEntries(
            Map.entry("CHANNEL_INVALID_STATE", "409: the channel is not in a state that allows this (PENDING, OPEN, CLOSING, SETTLED)"),
            Map.entry("CHANNEL_PROOF_STALE", "409: the stored proof of this signer is not older (a newer proof has a larger nonce"
                    + " and a transferred total at least as large)"),
            Map.entry("CHANNEL_PROOF_INVALID_SIGNATURE", "422: the proof is not signed by the counterparty's signing key over this"
                    + " channel's BalanceProof in the contract's EIP-712 domain (forged, or from another channel)"),
            Map.entry("CHANNEL_PROOF_WRONG_CHANNEL", "422: the proof names another channel than the one in the path"),
            Map.entry("CHANNEL_PROOF_EXCEEDS_DEPOSIT", "422: the proof's total is more than the signer deposited less withdrawals"
                    + " plus what it received"),
            Map.entry("CHANNEL_SIGNATURE_INVALID", "422: a signature of a prepared call is not the expected participant key's"),
            Map.entry("CHANNEL_NOT_PARTICIPANT_ROLE", "422: the call is for the other participant (e.g. only B accepts)"),
            Map.entry("CHANNEL_COOPERATIVE_CLOSE_MISMATCH", "422: cooperative close totals do not add up to all deposits"),
            Map.entry("CHANNEL_WITHDRAWAL_EXCEEDS_FUNDS", "422: the withdrawn total is not above the current one or exceeds the funds"),
            Map.entry("CHANNEL_NOTHING_TO_CLAIM", "409: the caller has no payout left to claim"),
            Map.entry("CHANNEL_PROOFS_BUSY", "503: too many proofs of this channel (or instance) wait to be written, or the"
                    + " write took too long; send the proof again after Retry-After (a stored one answers 200)"),
            Map.entry("CHANNEL_PROOFS_NOT_STORED", "503: the transaction that wrote the proof's group failed (rolled back,"
                    + " or its commit's outcome unknown); send the proof again (a stored one answers 200)"));

    @Bean
    @Order(Ordered.LOWEST_PRECEDENCE)
    OpenApiCustomizer channelErrorCodes() {
        return FeatureOpenApi.errorCodes(CODES, p -> p.startsWith("/api/v1/channels"));
    }
}
