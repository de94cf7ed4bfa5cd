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
final class OperatorKeys {
    private OperatorKeys() {
    }

    static Credentials operator(BackendProperties properties) {
        if (hasText(properties.operatorKeystore())) {
            if (properties.operatorKeystorePassword() == null) {
                throw new IllegalStateException("OPERATOR_KEYSTORE is set but OPERATOR_KEYSTORE_PASSWORD is not");
            }
            try {
                return WalletUtils.loadCredentials(properties.operatorKeystorePassword(),
                        new File(properties.operatorKeystore()));
            } catch (IOException | CipherException e) {
                throw new IllegalStateException("cannot open the operator keystore " + properties.operatorKeystore()
                        + ": " + e.getMessage(), e);
            }
        }
        if (hasText(properties.operatorPrivateKey())) {
            return fromHex(properties.operatorPrivateKey(), "OPERATOR_PRIVATE_KEY");
        }
        throw new IllegalStateException("no operator key: set OPERATOR_PRIVATE_KEY, or OPERATOR_KEYSTORE and "
                + "OPERATOR_KEYSTORE_PASSWORD (only the local profile uses Hardhat's dev key)");
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
