-- Per-day amount limits, shared by every instance and kept across restarts (issue 12): what each
-- account has sent per token on each UTC day. Reserved before the ledger write, in the same
-- request; given back when the ledger refuses the transfer.
CREATE TABLE daily_amounts (
    owner  CHAR(42)      NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    token  CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    day    DATE          NOT NULL,
    amount NUMERIC(78,0) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (owner, token, day)
);
CREATE INDEX daily_amounts_day ON daily_amounts (day);
