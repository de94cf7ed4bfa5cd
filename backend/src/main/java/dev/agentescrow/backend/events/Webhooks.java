package dev.agentescrow.backend.events;

import dev.agentescrow.chain.Address;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A principal's webhook endpoints: registered with a URL the {@link WebhookUrlPolicy} accepts and
 * an optional list of event types (none: all), each with its own signing secret ({@code whsec_} and
 * 32 random bytes, shown once at creation, kept to sign deliveries). Deleting one cancels its
 * pending deliveries. Another principal's endpoint is not found.
 */
@Component
public class Webhooks {
    public static final String SECRET_PREFIX = "whsec_";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final EventsProperties properties;
    private final WebhookUrlPolicy policy;
    private final SecureRandom random = new SecureRandom();

    public Webhooks(JdbcTemplate jdbc, TransactionTemplate transactions, Clock clock, EventsProperties properties) {
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.clock = clock;
        this.properties = properties;
        this.policy = new WebhookUrlPolicy(properties.allowPrivateAddresses());
    }

    public record Endpoint(UUID id, Address owner, String url, String description, List<EventType> types,
                           Instant createdAt) {
    }

    public sealed interface Registration permits Registered, Refused, LimitReached {
    }

    /** The endpoint and its secret (the only time the secret is shown). */
    public record Registered(Endpoint endpoint, String secret) implements Registration {
    }

    public record Refused(WebhookUrlPolicy.Refusal refusal) implements Registration {
    }

    public record LimitReached(int limit) implements Registration {
    }

    public WebhookUrlPolicy policy() {
        return policy;
    }

    /** Registers {@code url} for {@code owner}; {@code types} empty means every type. */
    public Registration register(Address owner, String url, String description, List<EventType> types) {
        Optional<WebhookUrlPolicy.Refusal> refusal = policy.check(url);
        if (refusal.isPresent()) {
            return new Refused(refusal.get());
        }
        return transactions.execute(status -> {
            jdbc.queryForObject("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext(?))) x", Integer.class,
                    "webhooks:" + owner.hex());
            Integer active = jdbc.queryForObject(
                    "SELECT count(*) FROM backend.webhook_endpoints WHERE owner = ? AND deleted_at IS NULL",
                    Integer.class, owner.hex());
            if (active != null && active >= properties.maxEndpointsPerOwner()) {
                return new LimitReached(properties.maxEndpointsPerOwner());
            }
            byte[] bytes = new byte[32];
            random.nextBytes(bytes);
            String secret = SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            UUID id = UUID.randomUUID();
            Instant now = clock.instant();
            String typeArray = types.isEmpty() ? null
                    : "{" + String.join(",", types.stream().map(EventType::wireName).distinct().toList()) + "}";
            jdbc.update("INSERT INTO backend.webhook_endpoints (id, owner, url, description, types, secret, created_at)"
                    + " VALUES (?, ?, ?, ?, CAST(? AS VARCHAR(64)[]), ?, ?)", id, owner.hex(), url, description,
                    typeArray, secret, Timestamp.from(now));
            return new Registered(new Endpoint(id, owner, url, description, List.copyOf(types), now), secret);
        });
    }

    public List<Endpoint> list(Address owner) {
        return jdbc.query("SELECT id, owner, url, description, types, created_at FROM backend.webhook_endpoints"
                + " WHERE owner = ? AND deleted_at IS NULL ORDER BY created_at DESC", Webhooks::endpoint, owner.hex());
    }

    /** {@code owner}'s endpoint {@code id}, deleted or not (its deliveries stay listed). */
    public Optional<Endpoint> find(Address owner, UUID id) {
        return jdbc.query("SELECT id, owner, url, description, types, created_at FROM backend.webhook_endpoints"
                + " WHERE id = ? AND owner = ?", Webhooks::endpoint, id, owner.hex()).stream().findFirst();
    }

    /** Deletes {@code owner}'s endpoint and cancels its pending deliveries; false if it has no such live endpoint. */
    public boolean delete(Address owner, UUID id) {
        Boolean deleted = transactions.execute(status -> {
            Instant now = clock.instant();
            int rows = jdbc.update("UPDATE backend.webhook_endpoints SET deleted_at = ? WHERE id = ? AND owner = ?"
                    + " AND deleted_at IS NULL", Timestamp.from(now), id, owner.hex());
            if (rows == 0) {
                return false;
            }
            jdbc.update("UPDATE backend.webhook_deliveries SET state = 'CANCELLED', completed_at = ?"
                    + " WHERE endpoint_id = ? AND state = 'PENDING'", Timestamp.from(now), id);
            return true;
        });
        return Boolean.TRUE.equals(deleted);
    }

    private static Endpoint endpoint(ResultSet rs, int n) throws SQLException {
        Array array = rs.getArray(5);
        List<EventType> types = array == null ? List.of() : Arrays.stream((Object[]) array.getArray())
                .map(Object::toString).map(EventType::fromWireName).flatMap(Optional::stream).toList();
        return new Endpoint(rs.getObject(1, UUID.class), Address.of(rs.getString(2)), rs.getString(3), rs.getString(4),
                types, rs.getTimestamp(6).toInstant());
    }
}
