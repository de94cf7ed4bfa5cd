-- Escrow payout ids a party cannot compute (docs/escrows-api.md, "Ids"): each payout's ledger
-- transfer id derived from (escrow, action, part, version) alone could be computed by every party
-- of the escrow, committed first by a client under its own account (clients choose their transfer
-- ids), and the escrow's release, refund, resolution or fallback would then be refused for ever
-- (EXISTS_WITH_DIFFERENT_CONTENT). A ledger escrow created from now on keeps a random secret, written
-- with its row and never shown, that every part but the funding derives from as well. Null for the
-- escrows created before (and for chain escrows, which pay nothing through the ledger): their ids
-- stay as they were (a lost commit of theirs is found under the ids it was made with).
ALTER TABLE escrows ADD COLUMN transfer_salt CHAR(32) CHECK (transfer_salt ~ '^[0-9a-f]{32}$');
