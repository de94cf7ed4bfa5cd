-- Issue 12: a user's deposits (and escapes) as the indexer booked them, newest first, for the
-- service's deposit list (read.LedgerReads.custodyHolds), without scanning every booking.
-- (Numbered 12.8 so it never collides with other branches' migrations.)
CREATE INDEX indexer_custody_holds_account ON indexer_custody_holds (account, block_number DESC);
