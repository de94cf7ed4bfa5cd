package dev.agentescrow.backend.auth;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/** SIWE nonces: issued with an expiry, each consumed at most once (in the database, so any instance may consume it). */
@Component
public class NonceStore {
    private static final char[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
    private static final int LENGTH = 24;

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public NonceStore(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    public record Issued(String nonce, Instant expiresAt) {
    }

    public enum Consumed { OK, UNKNOWN, EXPIRED }

    public Issued issue(Duration ttl) {
        char[] chars = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            chars[i] = ALPHABET[random.nextInt(ALPHABET.length)];
        }
        Instant now = clock.instant();
        Instant expiresAt = now.plus(ttl);
        String nonce = new String(chars);
        jdbc.update("INSERT INTO backend.siwe_nonces (nonce, created_at, expires_at) VALUES (?, ?, ?)", nonce,
                Timestamp.from(now), Timestamp.from(expiresAt));
        return new Issued(nonce, expiresAt);
    }

    /** Takes the nonce: OK once; UNKNOWN if never issued or taken already; EXPIRED past its expiry. */
    public Consumed consume(String nonce) {
        List<Timestamp> expiry = jdbc.queryForList("DELETE FROM backend.siwe_nonces WHERE nonce = ? RETURNING expires_at",
                Timestamp.class, nonce);
        if (expiry.isEmpty()) {
            return Consumed.UNKNOWN;
        }
        return expiry.getFirst().toInstant().isAfter(clock.instant()) ? Consumed.OK : Consumed.EXPIRED;
    }

    /** Drops expired nonces. */
    @Scheduled(fixedDelayString = "PT1M")
    public void purgeExpired() {
        jdbc.update("DELETE FROM backend.siwe_nonces WHERE expires_at < ?", Timestamp.from(clock.instant().minusSeconds(60)));
    }
}
