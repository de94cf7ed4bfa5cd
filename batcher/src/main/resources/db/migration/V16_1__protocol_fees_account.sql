-- Protocol fees (issue 16): a system account kind of its own per token, next to the platform's
-- FEES, so that each fee is booked, reported and distributed by itself. Tokens registered before
-- this migration open it on its first credit (like an escrow account); new tokens open it at
-- registration with the other system accounts.
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('USER', 'CUSTODY', 'FEES', 'PROTOCOL_FEES', 'ESCROW', 'PAYOUTS', 'ESCROW_FUNDS'));
