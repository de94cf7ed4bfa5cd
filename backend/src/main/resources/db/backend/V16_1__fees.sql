-- Fees (issue 16): a platform fee and a protocol fee on every ledger payout, each booked into its
-- own ledger account (FEES, PROTOCOL_FEES) and recorded here with the payout that paid it
-- (fee_charges); stakeholders with shares; distributions per period that move what a period
-- collected to the stakeholders, exactly once (one row per period, planned under a lock, paid by
-- ledger transfers whose ids derive from the period); see docs/fees.md.

-- Each escrow fixes both fees at creation (fee_bps is the platform's), and names what it funds
-- (a plain escrow, a market request or task, a workflow) for the fee report.
ALTER TABLE escrows ADD COLUMN protocol_fee_bps INTEGER NOT NULL DEFAULT 0
    CHECK (protocol_fee_bps BETWEEN 0 AND 10000);
ALTER TABLE escrows ADD COLUMN fee_source VARCHAR(16) NOT NULL DEFAULT 'ESCROW'
    CHECK (fee_source IN ('ESCROW', 'REQUEST', 'TASK', 'WORKFLOW'));
ALTER TABLE escrows ADD CONSTRAINT escrows_fees_within_max CHECK (fee_bps + protocol_fee_bps <= max_fee_bps);

-- A payout's protocol fee is a transfer part of its own (kind PROTOCOL_FEE, the payee's index).
ALTER TABLE escrow_transfers ALTER COLUMN kind TYPE VARCHAR(16);
ALTER TABLE escrow_transfers DROP CONSTRAINT escrow_transfers_kind_check;
ALTER TABLE escrow_transfers ADD CONSTRAINT escrow_transfers_kind_check
    CHECK (kind IN ('FUND', 'PAYEE', 'FEE', 'PROTOCOL_FEE', 'PAYER'));

-- Periods of distribution, numbered from 1 without gaps: period n covers the fees recorded since
-- period n - 1 was planned. PLANNED: its payments are fixed (fee_payments) and being paid;
-- DISTRIBUTED: every payment is in the ledger. At most one period is PLANNED at a time.
CREATE TABLE fee_periods (
    number         BIGINT       PRIMARY KEY CHECK (number >= 1),
    starts_at      TIMESTAMPTZ  NOT NULL,
    ends_at        TIMESTAMPTZ  NOT NULL CHECK (ends_at >= starts_at),
    trigger        VARCHAR(16)  NOT NULL CHECK (trigger IN ('SCHEDULE', 'ADMIN')),
    actor          VARCHAR(64)  NOT NULL,
    state          VARCHAR(16)  NOT NULL CHECK (state IN ('PLANNED', 'DISTRIBUTED')),
    planned_at     TIMESTAMPTZ  NOT NULL,
    distributed_at TIMESTAMPTZ,
    CHECK ((state = 'DISTRIBUTED') = (distributed_at IS NOT NULL))
);
CREATE UNIQUE INDEX fee_periods_one_planned ON fee_periods ((true)) WHERE state = 'PLANNED';

-- Every fee booked in the ledger, with the payout that paid it: one row per ledger transfer into
-- FEES or PROTOCOL_FEES. period is null until a distribution claims the row.
CREATE TABLE fee_charges (
    transfer_id UUID          PRIMARY KEY,
    fee_type    VARCHAR(8)    NOT NULL CHECK (fee_type IN ('PLATFORM', 'PROTOCOL')),
    source      VARCHAR(16)   NOT NULL CHECK (source IN ('ESCROW', 'REQUEST', 'TASK', 'WORKFLOW', 'CHAIN_SWEEP')),
    subject     VARCHAR(96)   NOT NULL,
    payee       CHAR(42)      CHECK (payee ~ '^0x[0-9a-f]{40}$'),
    token       CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    gross       NUMERIC(78,0) CHECK (gross >= amount),
    ledger_seq  BIGINT        NOT NULL,
    booked_at   TIMESTAMPTZ   NOT NULL,
    period      BIGINT        REFERENCES fee_periods (number)
);
CREATE INDEX fee_charges_unclaimed ON fee_charges (booked_at) WHERE period IS NULL;
CREATE INDEX fee_charges_period ON fee_charges (period) WHERE period IS NOT NULL;

-- Who receives the distributed fees, by relative shares (a stakeholder's part is shares / the sum
-- of the active stakeholders' shares). Removing one deactivates it; its past payments stay.
CREATE TABLE fee_stakeholders (
    id         VARCHAR(40)  PRIMARY KEY CHECK (id ~ '^sth_[0-9a-f]{32}$'),
    position   BIGSERIAL    NOT NULL UNIQUE,
    account    CHAR(42)     NOT NULL CHECK (account ~ '^0x[0-9a-f]{40}$'),
    name       VARCHAR(100) NOT NULL,
    shares     BIGINT       NOT NULL CHECK (shares BETWEEN 1 AND 1000000),
    active     BOOLEAN      NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL,
    updated_at TIMESTAMPTZ  NOT NULL
);
CREATE UNIQUE INDEX fee_stakeholders_active_account ON fee_stakeholders (account) WHERE active;

-- Per period, token and fee type: what the period collected, what the previous period carried in
-- (its rounding remainder), what was distributed and what is carried to the next period.
CREATE TABLE fee_period_totals (
    period      BIGINT        NOT NULL REFERENCES fee_periods (number),
    token       CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    fee_type    VARCHAR(8)    NOT NULL CHECK (fee_type IN ('PLATFORM', 'PROTOCOL')),
    collected   NUMERIC(78,0) NOT NULL CHECK (collected >= 0),
    carried_in  NUMERIC(78,0) NOT NULL CHECK (carried_in >= 0),
    distributed NUMERIC(78,0) NOT NULL CHECK (distributed >= 0),
    carried_out NUMERIC(78,0) NOT NULL CHECK (carried_out >= 0),
    PRIMARY KEY (period, token, fee_type),
    CHECK (collected + carried_in = distributed + carried_out)
);

-- What each stakeholder receives from a period, per token and fee type: one ledger transfer each
-- (id derived from period, stakeholder, token and type), ledger_seq once it is committed.
CREATE TABLE fee_payments (
    period         BIGINT        NOT NULL REFERENCES fee_periods (number),
    stakeholder_id VARCHAR(40)   NOT NULL REFERENCES fee_stakeholders (id),
    account        CHAR(42)      NOT NULL CHECK (account ~ '^0x[0-9a-f]{40}$'),
    shares         BIGINT        NOT NULL CHECK (shares >= 1),
    token          CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    fee_type       VARCHAR(8)    NOT NULL CHECK (fee_type IN ('PLATFORM', 'PROTOCOL')),
    amount         NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    transfer_id    UUID          NOT NULL UNIQUE,
    ledger_seq     BIGINT,
    PRIMARY KEY (period, stakeholder_id, token, fee_type)
);

-- The fees in force for new escrows and payouts, set by an admin; without a row the configured
-- defaults (agentescrow.fees.*) apply. Each escrow fixes the fees in force when it is created.
CREATE TABLE fee_rates (
    id           SMALLINT    PRIMARY KEY CHECK (id = 1),
    platform_bps INTEGER     NOT NULL CHECK (platform_bps BETWEEN 0 AND 1000),
    protocol_bps INTEGER     NOT NULL CHECK (protocol_bps BETWEEN 0 AND 1000),
    updated_by   VARCHAR(64) NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
