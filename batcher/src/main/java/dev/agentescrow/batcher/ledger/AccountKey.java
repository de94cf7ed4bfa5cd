package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Address;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Names an account: a user account by (owner, token), a system account by (kind, token), an
 * escrow's account by (escrow id, token).
 *
 * @param owner    the agent's address for {@link AccountKind#USER}, null otherwise
 * @param escrowId the escrow's id for {@link AccountKind#ESCROW_FUNDS} (1-64 of {@code A-Za-z0-9:_.-}), null otherwise
 */
public record AccountKey(AccountKind kind, Address owner, Address token, String escrowId) {
    private static final Pattern ESCROW_ID = Pattern.compile("[A-Za-z0-9:_.-]{1,64}");

    public AccountKey {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(token, "token");
        if ((kind == AccountKind.USER) != (owner != null)) {
            throw new IllegalArgumentException("a USER account has an owner, other accounts have none");
        }
        if ((kind == AccountKind.ESCROW_FUNDS) != (escrowId != null)) {
            throw new IllegalArgumentException("an ESCROW_FUNDS account has an escrow id, other accounts have none");
        }
        if (escrowId != null && !isValidEscrowId(escrowId)) {
            throw new IllegalArgumentException("an escrow id is 1-64 characters of A-Za-z0-9:_.-: " + escrowId);
        }
    }

    /** A user or system account (no escrow id). */
    public AccountKey(AccountKind kind, Address owner, Address token) {
        this(kind, owner, token, null);
    }

    /** Whether {@code escrowId} may name an escrow account: 1-64 characters of {@code A-Za-z0-9:_.-}. */
    public static boolean isValidEscrowId(String escrowId) {
        return escrowId != null && ESCROW_ID.matcher(escrowId).matches();
    }

    /**
     * The key of an account row: its kind, and the owner (USER) or escrow id (ESCROW_FUNDS) the
     * kind needs; the other of the two is ignored.
     */
    public static AccountKey of(AccountKind kind, Address owner, Address token, String escrowId) {
        return switch (kind) {
            case USER -> user(owner, token);
            case ESCROW_FUNDS -> escrowFunds(escrowId, token);
            default -> system(kind, token);
        };
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

    /** The account holding the funds of escrow {@code escrowId} in {@code token}. */
    public static AccountKey escrowFunds(String escrowId, Address token) {
        return new AccountKey(AccountKind.ESCROW_FUNDS, null, token, Objects.requireNonNull(escrowId, "escrowId"));
    }

    public static AccountKey custody(Address token) {
        return system(AccountKind.CUSTODY, token);
    }

    public static AccountKey fees(Address token) {
        return system(AccountKind.FEES, token);
    }

    public static AccountKey protocolFees(Address token) {
        return system(AccountKind.PROTOCOL_FEES, token);
    }

    public static AccountKey escrow(Address token) {
        return system(AccountKind.ESCROW, token);
    }

    public static AccountKey payouts(Address token) {
        return system(AccountKind.PAYOUTS, token);
    }

    @Override
    public String toString() {
        String name = owner != null ? owner.hex() : escrowId != null ? "escrow:" + escrowId : kind.name();
        return name + "/" + token.hex();
    }
}
