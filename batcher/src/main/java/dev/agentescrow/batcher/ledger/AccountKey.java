package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Address;
import java.util.Objects;

/**
 * Names an account: a user account by (owner, token), a system account by (kind, token).
 *
 * @param owner the agent's address for {@link AccountKind#USER}, null for system accounts
 */
public record AccountKey(AccountKind kind, Address owner, Address token) {
    public AccountKey {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(token, "token");
        if ((kind == AccountKind.USER) != (owner != null)) {
            throw new IllegalArgumentException("a USER account has an owner, a system account has none");
        }
    }

    public static AccountKey user(Address owner, Address token) {
        return new AccountKey(AccountKind.USER, Objects.requireNonNull(owner, "owner"), token);
    }

    public static AccountKey system(AccountKind kind, Address token) {
        if (!kind.isSystem()) {
            throw new IllegalArgumentException("not a system account kind: " + kind);
        }
        return new AccountKey(kind, null, token);
    }

    public static AccountKey custody(Address token) {
        return system(AccountKind.CUSTODY, token);
    }

    public static AccountKey fees(Address token) {
        return system(AccountKind.FEES, token);
    }

    public static AccountKey escrow(Address token) {
        return system(AccountKind.ESCROW, token);
    }

    public static AccountKey payouts(Address token) {
        return system(AccountKind.PAYOUTS, token);
    }

    @Override
    public String toString() {
        return (owner == null ? kind.name() : owner.hex()) + "/" + token.hex();
    }
}
