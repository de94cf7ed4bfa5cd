-- The chain's head when each settlement transaction was signed (issue 10, stuck transactions): a
-- transaction no block has taken so many blocks later is replaced at its nonce with higher fees.
-- Rows signed before this migration have none; the submitter then counts from the block the
-- batch was built in.
ALTER TABLE settlement_transactions ADD COLUMN signed_block BIGINT CHECK (signed_block >= 0);
