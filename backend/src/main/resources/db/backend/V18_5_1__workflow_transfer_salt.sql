-- Workflow payout ids a party cannot compute (docs/workflows.md, "Ids"): each payout's ledger
-- transfer id derived from (payer, workflow, part) alone could be computed by anyone who reads the
-- workflow, committed first by a client under its own account (clients choose their transfer ids),
-- and the workflow's payout or refund would then be refused for ever (EXISTS_WITH_DIFFERENT_CONTENT).
-- A workflow created from now on keeps a random secret, written with its row and never shown, that
-- its payout ids derive from as well. Null for the workflows created before: their ids stay as
-- they were (a lost commit of theirs is found under the ids it was made with).
ALTER TABLE workflows ADD COLUMN transfer_salt CHAR(32) CHECK (transfer_salt ~ '^[0-9a-f]{32}$');
