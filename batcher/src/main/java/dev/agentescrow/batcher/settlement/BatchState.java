package dev.agentescrow.batcher.settlement;

/**
 * Where one settlement batch row stands. A row only moves forward, through the guarded
 * transitions of {@link SettlementBatchRecord}:
 *
 * <pre>
 *   BUILT ──► SUBMITTED ──► CONFIRMED
 *     │  ▲        │ │
 *     │  └(new tx)┘ └──────► REVERTED      new tx: a replacement at the same nonce with higher fees,
 *     │                                     or a signature at a fresh nonce after another took it
 *     ├────────────────────► CONFIRMED   (applied on chain by bytes we find by its BatchSettled event)
 *     └────────────────────► REVERTED    (refused at gas estimation, or not encodable)
 * </pre>
 *
 * A REVERTED row is final: its movements are released and settle again under a new row, which
 * usually reuses the same batch id (the vault's next id did not move).
 */
public enum BatchState {
    /** Netted, its movements claimed; nothing signed yet. */
    BUILT,
    /**
     * At least one signed {@code settleBatch} (hash, nonce, raw bytes, signing block) is stored; the
     * last may or may not have reached the node, and any of them may be the one mined.
     */
    SUBMITTED,
    /** The vault applied the batch; final. */
    CONFIRMED,
    /** The vault refused the batch or its transaction failed; final, movements released. */
    REVERTED;

    /** Whether no further transition is possible. */
    public boolean isFinal() {
        return this == CONFIRMED || this == REVERTED;
    }
}
