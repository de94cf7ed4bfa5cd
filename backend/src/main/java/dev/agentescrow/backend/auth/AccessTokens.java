package dev.agentescrow.backend.auth;

import com.nimbusds.jose.jwk.source.ImmutableSecret;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.security.oauth2.jose.jws.MacAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.stereotype.Component;

/**
 * Short-lived access tokens: HS256 JWTs signed with {@code JWT_SECRET} (at least 32 bytes), or with
 * a random key per start when none is configured (tokens then end with the process).
 */
@Component
public class AccessTokens {
    static final String ISSUER = "agent-escrow-backend";

    private final NimbusJwtEncoder encoder;
    private final JwtDecoder decoder;
    private final Duration ttl;
    private final Clock clock;

    public AccessTokens(BackendProperties properties, Clock clock) {
        SecretKey key = key(properties.jwt().secret());
        this.encoder = new NimbusJwtEncoder(new ImmutableSecret<>(key));
        this.decoder = NimbusJwtDecoder.withSecretKey(key).macAlgorithm(MacAlgorithm.HS256).build();
        this.ttl = properties.jwt().ttl();
        this.clock = clock;
    }

    public record Issued(String token, Duration expiresIn) {
    }

    public Issued issue(Address address) {
        Instant now = clock.instant();
        JwtClaimsSet claims = JwtClaimsSet.builder().issuer(ISSUER).subject(address.hex()).issuedAt(now)
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
