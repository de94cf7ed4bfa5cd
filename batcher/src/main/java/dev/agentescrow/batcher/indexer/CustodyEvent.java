package dev.agentescrow.batcher.indexer;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.util.Objects;

/**
 * One custody event of the vault as read from one block: a {@code Deposited} (tokens in) or an
 * {@code EscapeWithdrawn} (an account's settled balance out through the escape hatch).
 *
 * <p>Its identity across reorganisations is {@link #key()}: the transaction hash and the
 * {@code ordinal}, the event's place among the transaction's custody events of its kind. A
 * transaction mined again in another block keeps its hash and, for the same execution, its ordinals,
 * while its block-wide log index may change; so the key, not the log index, decides what is booked
 * once. The position's block hash says which inclusion this is.
 *
 * @param ordinal 0 for the transaction's first event of this kind, 1 for the next, ...
 */
public record CustodyEvent(Kind kind, Address token, Address account, Amount amount, LogPosition position,
                           int ordinal) {
    /** Which custody event. */
    public enum Kind {
        /** {@code Deposited}: CUSTODY -> the account. */
        DEPOSIT,
        /** {@code EscapeWithdrawn}: the account -> CUSTODY. */
        ESCAPE
    }

    /** The identity of a custody event across the blocks its transaction may be mined in. */
    public record Key(Kind kind, TxHash txHash, int ordinal) {
        public Key {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(txHash, "txHash");
            if (ordinal < 0) {
                throw new IllegalArgumentException("ordinal must not be negative: " + ordinal);
            }
        }
    }

    public CustodyEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(position, "position");
        if (ordinal < 0) {
            throw new IllegalArgumentException("ordinal must not be negative: " + ordinal);
        }
    }

    public Key key() {
        return new Key(kind, position.txHash(), ordinal);
    }

    /** What the event adds to the account's custody: a deposit's amount, an escape's negated. */
    public BigInteger signedAmount() {
        return kind == Kind.DEPOSIT ? amount.baseUnits() : amount.baseUnits().negate();
    }
}
