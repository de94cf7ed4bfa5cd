package dev.agentescrow.backend.fee;

import dev.agentescrow.chain.Address;
import java.time.Instant;
import java.util.Objects;

/**
 * One receiver of distributed fees: its ledger account (an address, like any agent's: it withdraws
 * on chain like anyone) and its relative shares; inactive once an admin removed it.
 */
public record Stakeholder(String id, Address account, String name, long shares, boolean active, Instant createdAt,
                          Instant updatedAt) {
    public static final long MAX_SHARES = 1_000_000;

    public Stakeholder {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(name, "name");
        if (shares < 1 || shares > MAX_SHARES) {
            throw new IllegalArgumentException("shares are in [1, " + MAX_SHARES + "]: " + shares);
        }
    }
}
