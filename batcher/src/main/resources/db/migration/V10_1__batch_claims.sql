-- Issue 10 (F2): the database itself refuses a transfer in two batches that are not reverted.
-- A refused batch drops its claims (reverted = TRUE) in the same transaction that releases its
-- movements and marks the row REVERTED; any other row naming a transfer that an open or confirmed
-- row names fails to insert. (Numbered 10.1 so it never collides with other branches' V3..V9.)
ALTER TABLE settlement_batch_movements ADD COLUMN reverted BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE settlement_batch_movements m SET reverted = TRUE
FROM settlement_batches b WHERE b.row_id = m.batch_row_id AND b.state = 'REVERTED';
CREATE UNIQUE INDEX settlement_batch_movements_one_claim ON settlement_batch_movements (transfer_id) WHERE NOT reverted;
CREATE INDEX transfers_quarantined ON transfers (token) WHERE batch_id = -1;
