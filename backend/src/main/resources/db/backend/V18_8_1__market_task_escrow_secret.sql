-- A task's escrow is created at its allocation under an Idempotency-Key of the poster's. Built from the
-- task id alone (market:<task id>), every bidder could compute the escrow's id and its funding's ledger
-- id before the allocation, commit a transfer of its own under that id first, and so make every
-- allocation of the task fail (UNALLOCATED). The key now also carries this secret, drawn when the task
-- is posted and never shown. Tasks posted before it keep NULL and the old key.
ALTER TABLE market_tasks ADD COLUMN escrow_secret CHAR(32) CHECK (escrow_secret ~ '^[0-9a-f]{32}$');
