package dev.agentescrow.batcher.read;

import java.util.Objects;
import java.util.Optional;

/**
 * The answer of a read on {@link LedgerReads}: the value as of ledger position {@link #position()}
 * (every transfer with {@code seq <= position} is in it, none after), or that there is none, or that
 * the position the caller asked for was not reached before the deadline.
 *
 * @param position the ledger position the read saw (0 for an empty ledger)
 */
public record Read<T>(Status status, T value, long position) {
    public enum Status {
        /** The value, as of {@link #position()}. */
        FOUND,
        /** Nothing with that key exists as of {@link #position()}. */
        NOT_FOUND,
        /** The ledger had not reached the requested position when the wait ended: ask again. */
        NOT_YET
    }

    public Read {
        Objects.requireNonNull(status, "status");
        if ((status == Status.FOUND) != (value != null)) {
            throw new IllegalArgumentException("a FOUND read has a value, others none");
        }
    }

    static <T> Read<T> found(T value, long position) {
        return new Read<>(Status.FOUND, value, position);
    }

    static <T> Read<T> notFound(long position) {
        return new Read<>(Status.NOT_FOUND, null, position);
    }

    static <T> Read<T> notYet(long position) {
        return new Read<>(Status.NOT_YET, null, position);
    }

    /** The value if {@link Status#FOUND}. */
    public Optional<T> get() {
        return Optional.ofNullable(value);
    }
}
