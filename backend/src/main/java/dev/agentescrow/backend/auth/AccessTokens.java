package dev.agentescrow.backend.auth;

import com.nimbusds.jose.jwk.source.ImmutableSecret;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.MappedJwtClaimSetConverter;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.stereotype.Component;

/**
 * Short-lived access tokens: HS256 JWTs signed with {@code JWT_SECRET} (at least 32 bytes), or with
 * a random key per start when none is configured (tokens then end with the process). Each names the
 * deployment it was issued for as its audience ({@code eip155:<chain id>:<vault>}) and no other
 * deployment accepts it, even one that shares the secret (a testnet and a mainnet service, say).
 */
@Component
public class AccessTokens {
    static final String ISSUER = "agent-escrow-backend";

    private final NimbusJwtEncoder encoder;
    private final JwtDecoder decoder;
    private final Duration ttl;
    private final Clock clock;

    private final String audience;

    @Autowired
    public AccessTokens(BackendProperties properties, ChainDeployment deployment, Clock clock) {
        this(properties.jwt().secret(), properties.jwt().ttl(), audience(deployment.chainId(), deployment.vault()), clock);
    }

    AccessTokens(String secret, Duration ttl, String audience, Clock clock) {
        SecretKey key = key(secret);
        this.encoder = new NimbusJwtEncoder(new ImmutableSecret<>(key));
        NimbusJwtDecoder nimbus = NimbusJwtDecoder.withSecretKey(key).macAlgorithm(MacAlgorithm.HS256).build();
        // The issuer is a plain name, not a URL: the default converter tried URI.toURL() on it and threw
        // (and caught) an IllegalArgumentException on every authenticated request.
        nimbus.setClaimSetConverter(MappedJwtClaimSetConverter.withDefaults(
                Map.of(JwtClaimNames.ISS, iss -> iss == null ? null : iss.toString())));
        nimbus.setJwtValidator(new DelegatingOAuth2TokenValidator<>(JwtValidators.createDefault(),
                new JwtClaimValidator<List<String>>(JwtClaimNames.AUD, aud -> aud != null && aud.contains(audience))));
        this.decoder = nimbus;
        this.ttl = ttl;
        this.audience = audience;
        this.clock = clock;
    }

    /** The audience of this deployment's tokens: its chain and its vault. */
    static String audience(long chainId, Address vault) {
        return "eip155:" + chainId + ":" + vault.hex();
    }

    public record Issued(String token, Duration expiresIn) {
    }

    public Issued issue(Address address) {
        Instant now = clock.instant();
        JwtClaimsSet claims = JwtClaimsSet.builder().issuer(ISSUER).audience(List.of(audience))
                .subject(address.hex()).issuedAt(now)
                .expiresAt(now.plus(ttl)).build();
        String token = encoder.encode(JwtEncoderParameters.from(JwsHeader.with(MacAlgorithm.HS256).build(), claims))
                .getTokenValue();
        return new Issued(token, ttl);
    }

    public JwtDecoder decoder() {
        return decoder;
    }

    private static SecretKey key(String secret) {
        byte[] bytes;
        if (secret == null || secret.isBlank()) {
            bytes = new byte[32];
            new SecureRandom().nextBytes(bytes);
        } else {
            bytes = secret.getBytes(StandardCharsets.UTF_8);
            if (bytes.length < 32) {
                throw new IllegalStateException("JWT_SECRET must be at least 32 bytes");
            }
        }
        return new SecretKeySpec(bytes, "HmacSHA256");
    }
}
