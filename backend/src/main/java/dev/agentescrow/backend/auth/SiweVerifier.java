package dev.agentescrow.backend.auth;

import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import org.springframework.stereotype.Component;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;

/**
 * Checks a signed SIWE message: form, domain, URI, chain id, times, signature (an EOA's
 * {@code personal_sign}, recovery byte 27/28 or 0/1, or a contract wallet's ERC-1271
 * {@code isValidSignature} by {@code eth_call}), and last the nonce, which it consumes.
 */
@Component
public class SiweVerifier {
    /** Clock skew tolerated between the client and the service. */
    static final Duration SKEW = Duration.ofSeconds(60);
    private static final BigInteger HALF_CURVE_ORDER = Sign.CURVE_PARAMS.getN().shiftRight(1);

    private final SiweSettings settings;
    private final NonceStore nonces;
    private final ChainGateway chain;
    private final Clock clock;

    public SiweVerifier(SiweSettings settings, NonceStore nonces, ChainGateway chain, Clock clock) {
        this.settings = settings;
        this.nonces = nonces;
        this.chain = chain;
        this.clock = clock;
    }

    /** The signer's address, or why the login is refused. */
    public record Verdict(Address address, AuthFailure failure) {
        public boolean ok() {
            return failure == null;
        }
    }

    public Verdict verify(String text, String signatureHex) {
        SiweMessage message = SiweMessage.parse(text).orElse(null);
        if (message == null) {
            return refuse(AuthFailure.SIWE_MALFORMED);
        }
        if (!settings.domain().equals(message.domain())) {
            return refuse(AuthFailure.SIWE_DOMAIN_MISMATCH);
        }
        if (message.scheme() != null && !settings.uri().startsWith(message.scheme() + "://")) {
            return refuse(AuthFailure.SIWE_DOMAIN_MISMATCH);
        }
        if (!message.uri().equals(settings.uri()) && !message.uri().startsWith(settings.uri() + "/")) {
            return refuse(AuthFailure.SIWE_URI_MISMATCH);
        }
        if (message.chainId() != chain.chainId()) {
            return refuse(AuthFailure.SIWE_CHAIN_MISMATCH);
        }
        Instant now = clock.instant();
        if (message.issuedAt().isAfter(now.plus(SKEW))
                || (message.notBefore() != null && message.notBefore().isAfter(now.plus(SKEW)))) {
            return refuse(AuthFailure.SIWE_NOT_YET_VALID);
        }
        if (message.issuedAt().isBefore(now.minus(settings.maxMessageAge()))
                || (message.expirationTime() != null && !message.expirationTime().isAfter(now))) {
            return refuse(AuthFailure.SIWE_EXPIRED);
        }
        Address address = Address.of(message.address());
        if (!signedBy(text, signatureHex, address)) {
            return refuse(AuthFailure.SIWE_BAD_SIGNATURE);
        }
        return switch (nonces.consume(message.nonce())) {
            case OK -> new Verdict(address, null);
            case UNKNOWN -> refuse(AuthFailure.SIWE_NONCE_UNKNOWN);
            case EXPIRED -> refuse(AuthFailure.SIWE_NONCE_EXPIRED);
        };
    }

    private boolean signedBy(String text, String signatureHex, Address address) {
        byte[] signature = hex(signatureHex);
        if (signature == null) {
            return false;
        }
        byte[] message = text.getBytes(StandardCharsets.UTF_8);
        if (signature.length == 65 && recoversTo(message, signature, address)) {
            return true;
        }
        return chain.isContract(address)
                && chain.isValidContractSignature(address, Sign.getEthereumMessageHash(message), signature);
    }

    private static boolean recoversTo(byte[] message, byte[] signature, Address address) {
        int v = Byte.toUnsignedInt(signature[64]);
        if (v == 0 || v == 1) {
            v += 27;
        }
        if (v != 27 && v != 28) {
            return false;
        }
        byte[] r = Arrays.copyOfRange(signature, 0, 32);
        byte[] s = Arrays.copyOfRange(signature, 32, 64);
        if (new BigInteger(1, s).compareTo(HALF_CURVE_ORDER) > 0) {
            return false;
        }
        try {
            BigInteger key = Sign.signedPrefixedMessageToKey(message, new Sign.SignatureData((byte) v, r, s));
            return Address.of("0x" + Keys.getAddress(key)).equals(address);
        } catch (SignatureException | RuntimeException e) {
            return false;
        }
    }

    private static byte[] hex(String text) {
        if (text == null || !text.matches("0x([0-9a-fA-F]{2}){1,2048}")) {
            return null;
        }
        return HexFormat.of().parseHex(text.substring(2));
    }

    private static Verdict refuse(AuthFailure failure) {
        return new Verdict(null, failure);
    }
}
