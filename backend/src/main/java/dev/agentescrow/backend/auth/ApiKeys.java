package dev.agentescrow.backend.auth;

import dev.agentescrow.backend.common.web.CreatedCursor;
import dev.agentescrow.chain.Address;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * API keys for agents that run unattended: {@code aek_} and 32 random bytes, shown once at
 * creation, stored as their SHA-256, scoped to the address that created them, revocable.
 */
@Component
public class ApiKeys {
    public static final String PREFIX = "aek_";
    /** Keys one address may hold unrevoked. */
    public static final int MAX_ACTIVE_PER_OWNER = 20;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public ApiKeys(JdbcTemplate jdbc, TransactionTemplate transactions, Clock clock) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.clock = clock;
    }

    public record ApiKey(UUID id, Address owner, String name, String prefix, Instant createdAt, Instant revokedAt) {
        /** Where it sorts in its owner's list. */
        public CreatedCursor.Position position() {
            return new CreatedCursor.Position(createdAt, id);
        }
    }

    public record Created(ApiKey key, String secret) {
    }

    /**
     * A new key for {@code owner}, or empty when it holds the maximum already. The count and the
     * insert run under the owner's transaction-scoped advisory lock: counted without it, parallel
     * creations each saw room and together passed the limit.
     */
    public Optional<Created> create(Address owner, String name) {
        return transactions.execute(status -> {
            jdbc.queryForObject("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext(?))) x", Integer.class,
                    "api-keys:" + owner.hex());
            Integer active = jdbc.queryForObject(
                    "SELECT count(*) FROM backend.api_keys WHERE owner = ? AND revoked_at IS NULL", Integer.class, owner.hex());
            if (active != null && active >= MAX_ACTIVE_PER_OWNER) {
                return Optional.<Created>empty();
            }
            byte[] bytes = new byte[32];
            random.nextBytes(bytes);
            String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            UUID id = UUID.randomUUID();
            Instant now = clock.instant();
            String prefix = secret.substring(0, 10);
            jdbc.update("INSERT INTO backend.api_keys (id, owner, name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    id, owner.hex(), name, hash(secret), prefix, Timestamp.from(now));
            return Optional.of(new Created(new ApiKey(id, owner, name, prefix, now, null), secret));
        });
    }

    /**
     * {@code owner}'s keys (revoked ones too), newest first, at most {@code limit}, below
     * {@code before} when given: revoked keys accumulate, so the list is paged like every other.
     */
    public List<ApiKey> list(Address owner, Optional<CreatedCursor.Position> before, int limit) {
        String below = before.isPresent() ? " AND (created_at, id) < (?, ?)" : "";
        List<Object> args = new ArrayList<>(List.of(owner.hex()));
        before.ifPresent(p -> {
            args.add(Timestamp.from(p.createdAt()));
            args.add(p.id());
        });
        args.add(limit);
        return jdbc.query("SELECT id, owner, name, key_prefix, created_at, revoked_at FROM backend.api_keys WHERE owner = ?"
                + below + " ORDER BY created_at DESC, id DESC LIMIT ?", (rs, n) -> new ApiKey(rs.getObject(1, UUID.class),
                Address.of(rs.getString(2)), rs.getString(3), rs.getString(4), rs.getTimestamp(5).toInstant(),
                rs.getTimestamp(6) == null ? null : rs.getTimestamp(6).toInstant()), args.toArray());
    }

    /** Revokes {@code owner}'s key {@code id}; false if it has no such key (another's key is not found either). */
    public boolean revoke(Address owner, UUID id) {
        jdbc.update("UPDATE backend.api_keys SET revoked_at = ? WHERE id = ? AND owner = ? AND revoked_at IS NULL",
                Timestamp.from(clock.instant()), id, owner.hex());
        Integer found = jdbc.queryForObject("SELECT count(*) FROM backend.api_keys WHERE id = ? AND owner = ?", Integer.class,
                id, owner.hex());
        return found != null && found > 0;
    }

    /** The owner of an unrevoked key with this secret. */
    public Optional<Address> authenticate(String secret) {
        if (secret == null || !secret.startsWith(PREFIX) || secret.length() > 100) {
            return Optional.empty();
        }
        return jdbc.queryForList("SELECT owner FROM backend.api_keys WHERE key_hash = ? AND revoked_at IS NULL", String.class,
                hash(secret)).stream().findFirst().map(Address::of);
    }

    static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
