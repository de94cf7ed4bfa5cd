package dev.agentescrow.batcher.ledger;

/**
 * A group built without looking up its ids first met an id that is already committed: the
 * writer undoes the group in memory and builds it again with the lookup.
 */
final class DuplicateIdException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DuplicateIdException() {
        super("transfer id already committed", null, false, false);
    }
}
