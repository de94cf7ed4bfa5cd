package dev.agentescrow.batcher.indexer;

import java.util.Objects;

/**
 * The booking of one inclusion of a custody event: the ledger's pending transfer (hold) made when
 * the event's block reached the hold confirmations, and what became of it. Stored with the
 * indexer's checkpoint ({@link CheckpointStore}) before the ledger sees it, so that a crash at any
 * point leaves a row that the next poll completes.
 *
 * @param incarnation how many inclusions of the same {@link CustodyEvent#key()} were voided before
 *                    this one (0 for the first): a transaction mined again after a reorganisation,
 *                    even back into a block that was voided once, is booked under a fresh hold id
 */
public record CustodyHold(CustodyEvent event, int incarnation, State state) {
    /** What became of a hold. */
    public enum State {
        /** Booked as a pending transfer (or about to be): the user sees it as incoming. */
        PENDING,
        /** Posted at the confirmation depth: final. */
        POSTED,
        /** Its block left the canonical chain: voided in the ledger (or never booked there). */
        VOIDED,
        /** The ledger refused the hold (e.g. an unknown token, an escape larger than the ledger holds). */
        REJECTED;

        /** Whether the hold still stands for its event (at most one per key does). */
        public boolean live() {
            return this != VOIDED;
        }
    }

    public CustodyHold {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(state, "state");
        if (incarnation < 0) {
            throw new IllegalArgumentException("incarnation must not be negative: " + incarnation);
        }
    }

    public CustodyHold with(State newState) {
        return new CustodyHold(event, incarnation, newState);
    }
}
