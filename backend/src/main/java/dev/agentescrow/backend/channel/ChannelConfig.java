package dev.agentescrow.backend.channel;

import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.channel.PaymentChannelsGateway;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Optional;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.WalletUtils;
import org.web3j.crypto.exception.CipherException;
import tools.jackson.databind.json.JsonMapper;

/** The PaymentChannels contract the service follows and the watchtower's own key. */
@Configuration(proxyBeanMethods = false)
public class ChannelConfig {

    @Bean
    PaymentChannelsGateway paymentChannelsGateway(ChainClient client, ChannelSettings settings,
                                                  BackendProperties properties) {
        return new PaymentChannelsGateway(client, contract(settings, properties));
    }

    /** The watchtower's key: a keystore, else a hex key; none means the watchtower does not submit. */
    @Bean
    WatchtowerKey watchtowerKey(ChannelSettings settings) {
        if (hasText(settings.watchtowerKeystore())) {
            if (settings.watchtowerKeystorePassword() == null) {
                throw new IllegalStateException("WATCHTOWER_KEYSTORE is set but WATCHTOWER_KEYSTORE_PASSWORD is not");
            }
            try {
                return new WatchtowerKey(Optional.of(WalletUtils.loadCredentials(settings.watchtowerKeystorePassword(),
                        new File(settings.watchtowerKeystore()))));
            } catch (IOException | CipherException e) {
                throw new IllegalStateException("cannot open the watchtower keystore " + settings.watchtowerKeystore()
                        + ": " + e.getMessage(), e);
            }
        }
        if (hasText(settings.watchtowerPrivateKey())) {
            String digits = settings.watchtowerPrivateKey().startsWith("0x")
                    ? settings.watchtowerPrivateKey().substring(2) : settings.watchtowerPrivateKey();
            if (!digits.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalStateException("WATCHTOWER_PRIVATE_KEY is not a 32-byte hex private key");
            }
            return new WatchtowerKey(Optional.of(Credentials.create(digits)));
        }
        return new WatchtowerKey(Optional.empty());
    }

    /** The watchtower's signing key, if configured. */
    public record WatchtowerKey(Optional<Credentials> credentials) {
        public Optional<Address> address() {
            return credentials.map(c -> Address.of(c.getAddress()));
        }
    }

    private static Address contract(ChannelSettings settings, BackendProperties properties) {
        if (hasText(settings.contract())) {
            return Address.of(settings.contract().strip());
        }
        try {
            String value = JsonMapper.builder().build().readTree(Files.readString(properties.deploymentFile()))
                    .path("contracts").path("PaymentChannels").asString("");
            if (!Address.isValid(value)) {
                throw new IllegalStateException("deployment file " + properties.deploymentFile()
                        + " has no valid address at 'contracts.PaymentChannels' (or set CHANNELS_CONTRACT)");
            }
            return Address.of(value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the deployment file " + properties.deploymentFile(), e);
        }
    }

    private static boolean hasText(String value) {
        return value != null && !value.isBlank();
    }
}
