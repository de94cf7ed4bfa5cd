package dev.agentescrow.backend.config;

import java.io.File;
import java.io.IOException;
import org.web3j.crypto.exception.CipherException;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.WalletUtils;

/**
 * Loads the service's keys: from a keystore file with its password, or from a hex private key.
 * The local profile sets Hardhat's well-known dev keys; no other profile has a default.
 */
public final class OperatorKeys {
    private OperatorKeys() {
    }

    static Credentials operator(BackendProperties properties) {
        return load(properties.operatorPrivateKey(), properties.operatorKeystore(),
                properties.operatorKeystorePassword(), "OPERATOR").orElseThrow(() -> new IllegalStateException(
                "no operator key: set OPERATOR_PRIVATE_KEY, or OPERATOR_KEYSTORE and OPERATOR_KEYSTORE_PASSWORD (only"
                        + " the local profile uses Hardhat's dev key)"));
    }

    /**
     * A key of the service from a keystore file and its password, or from a hex private key; empty
     * when neither is set. {@code name} names the settings in error messages.
     */
    public static java.util.Optional<Credentials> load(String privateKey, String keystore, String keystorePassword,
                                                       String name) {
        if (hasText(keystore)) {
            if (keystorePassword == null) {
                throw new IllegalStateException(name + "_KEYSTORE is set but " + name + "_KEYSTORE_PASSWORD is not");
            }
            try {
                return java.util.Optional.of(WalletUtils.loadCredentials(keystorePassword, new File(keystore)));
            } catch (IOException | CipherException e) {
                throw new IllegalStateException("cannot open the keystore " + keystore + " (" + name + "): "
                        + e.getMessage(), e);
            }
        }
        return hasText(privateKey) ? java.util.Optional.of(fromHex(privateKey, name + "_PRIVATE_KEY"))
                : java.util.Optional.empty();
    }

    static Credentials fromHex(String hex, String name) {
        String digits = hex.startsWith("0x") ? hex.substring(2) : hex;
        if (!digits.matches("[0-9a-fA-F]{64}")) {
            throw new IllegalStateException(name + " is not a 32-byte hex private key");
        }
        return Credentials.create(digits);
    }

    static boolean hasText(String value) {
        return value != null && !value.isBlank();
    }
}
