-- Issue 11 (settlement keeps up): settlement no longer writes ledger rows. A transfer is claimed by
-- a batch through its settlement_batch_movements row (not reverted; unique per transfer since
-- V10_1), quarantined through settlement_quarantine, and the watermark below replaces
-- transfers.batch_id and its partial indexes, which cost every insert an index entry and every
-- claim a row rewrite (and its vacuum).
--
-- Every transfer with seq <= settlement_watermark.seq is final for settlement: it has no on-chain
-- movement, is quarantined, or is claimed by a CONFIRMED batch. Settlement reads after it and
-- moves it over the final transfers it meets before the first one that is not (docs/settlement.md).
CREATE TABLE settlement_watermark (
    singleton  BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    seq        BIGINT      NOT NULL CHECK (seq >= 0),
    updated_at TIMESTAMPTZ NOT NULL
);

-- Start below the first transfer that is not final today: one not yet looked at, or one claimed by
-- an open batch (a refused batch releases it).
INSERT INTO settlement_watermark (seq, updated_at)
SELECT greatest(0, coalesce(least(
           (SELECT min(t.seq) FROM transfers t WHERE t.batch_id IS NULL),
           (SELECT min(t.seq) FROM transfers t
            JOIN settlement_batch_movements m ON m.transfer_id = t.id AND NOT m.reverted
            JOIN settlement_batches b ON b.row_id = m.batch_row_id AND b.state IN ('BUILT', 'SUBMITTED'))) - 1,
       (SELECT max(seq) FROM transfers), 0)), now();

DROP INDEX transfers_unbatched;
DROP INDEX transfers_quarantined;
ALTER TABLE transfers DROP COLUMN batch_id;
