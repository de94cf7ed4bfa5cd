-- Chain-custody escrows (issue 13): a TaskEscrow the payer funds itself. The escrow keeps its row in
-- escrows (same id, terms, states, parties, history as a ledger escrow, custody CHAIN); it is
-- PENDING_FUNDING from the create until the contract-log follower sees its Created event after the
-- confirmations, and from then on its state is derived from the contract's events alone
-- (chain_escrow_events), rebuilt from them when a reorganisation drops some. The service's own
-- transactions (the arbiter's resolutions, relayed acceptances, fee claims and deposits) are signed
-- and stored before they are broadcast (chain_sends); the fee sweep's steps are in fee_sweeps.

DO $$
DECLARE c RECORD;
BEGIN
    -- The custody and state lists, and the two rules that PENDING_FUNDING and chain escrows relax.
    FOR c IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conrelid = 'escrows'::regclass AND contype = 'c' LOOP
        IF c.def LIKE '%custody%' OR c.def LIKE '%''OPEN''::%' OR c.def LIKE '%due_at IS NULL%'
           OR c.def LIKE '%held = %' THEN
            EXECUTE format('ALTER TABLE escrows DROP CONSTRAINT %I', c.conname);
        END IF;
    END LOOP;
END $$;
ALTER TABLE escrows
    ADD CONSTRAINT escrows_custody CHECK (custody IN ('LEDGER', 'CHAIN')),
    ADD CONSTRAINT escrows_state CHECK (state IN ('PENDING_FUNDING', 'OPEN', 'FUNDED', 'DISPUTED', 'COMPLETED',
        'REJECTED', 'EXPIRED', 'RESOLVED') AND (state <> 'PENDING_FUNDING' OR custody = 'CHAIN')),
    -- the ledger's schedule acts on ledger escrows only: a chain escrow's deadlines are the contract's
    ADD CONSTRAINT escrows_due CHECK (CASE WHEN custody = 'CHAIN' THEN due_at IS NULL
        ELSE (state IN ('COMPLETED', 'REJECTED', 'EXPIRED', 'RESOLVED')) = (due_at IS NULL) END),
    ADD CONSTRAINT escrows_held CHECK (CASE WHEN state = 'PENDING_FUNDING' THEN held = 0
        ELSE (state IN ('COMPLETED', 'REJECTED', 'EXPIRED', 'RESOLVED')) = (held = 0) END);

-- Where a chain escrow lives on chain: the TaskEscrow, the payer's task id (derived from the escrow
-- id) and the contract's escrow id keccak256(abi.encode(payer, taskId)).
CREATE TABLE chain_escrows (
    escrow_id        VARCHAR(64) PRIMARY KEY REFERENCES escrows (id),
    contract         CHAR(42)    NOT NULL CHECK (contract ~ '^0x[0-9a-f]{40}$'),
    chain_escrow_id  CHAR(66)    NOT NULL UNIQUE CHECK (chain_escrow_id ~ '^0x[0-9a-f]{64}$'),
    task_id          CHAR(66)    NOT NULL CHECK (task_id ~ '^0x[0-9a-f]{64}$'),
    permit_deadline  TIMESTAMPTZ NOT NULL
);

-- Every confirmed log of the TaskEscrow about a chain escrow, exactly once per (tx hash, log index);
-- deleted when its block leaves the chain. The escrow's row, payees and history derive from these.
CREATE TABLE chain_escrow_events (
    tx_hash      CHAR(66)     NOT NULL CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
    log_index    BIGINT       NOT NULL CHECK (log_index >= 0),
    escrow_id    VARCHAR(64)  NOT NULL REFERENCES escrows (id),
    block_number BIGINT       NOT NULL,
    block_hash   CHAR(66)     NOT NULL,
    kind         VARCHAR(24)  NOT NULL,
    data         TEXT         NOT NULL,
    seen_at      TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX chain_escrow_events_escrow ON chain_escrow_events (escrow_id, block_number, log_index);
CREATE INDEX chain_escrow_events_block ON chain_escrow_events (block_number);

-- The transaction of a chain escrow's history entry.
ALTER TABLE escrow_history ADD COLUMN tx_hash CHAR(66), ADD COLUMN block_number BIGINT;

-- The service's own transactions, one per purpose (its key: e.g. resolve:<escrow>), signed and
-- stored before the first broadcast; afterwards only these bytes are broadcast again. One nonce
-- sequence per signing key (lane), taken under an advisory lock of the lane.
CREATE TABLE chain_sends (
    purpose     VARCHAR(120) PRIMARY KEY,
    signer      CHAR(42)     NOT NULL CHECK (signer ~ '^0x[0-9a-f]{40}$'),
    nonce       BIGINT       NOT NULL CHECK (nonce >= 0),
    to_address  CHAR(42)     NOT NULL,
    data        TEXT         NOT NULL,
    raw_tx      TEXT         NOT NULL,
    tx_hash     CHAR(66)     NOT NULL UNIQUE,
    state       VARCHAR(16)  NOT NULL CHECK (state IN ('SIGNED', 'SUCCEEDED', 'FAILED', 'NONCE_LOST')),
    block_number BIGINT,
    created_at  TIMESTAMPTZ  NOT NULL,
    updated_at  TIMESTAMPTZ  NOT NULL,
    UNIQUE (signer, nonce)
);

-- One sweep of the chain escrows' accrued fees of a token into the ledger's FEES account: claimed
-- from the TaskEscrow to the fee recipient, deposited into the vault (credited to the fee
-- recipient's ledger account by the vault indexer), then moved to FEES by one ledger transfer.
CREATE TABLE fee_sweeps (
    id          UUID          PRIMARY KEY,
    token       CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    recipient   CHAR(42)      NOT NULL CHECK (recipient ~ '^0x[0-9a-f]{40}$'),
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    state       VARCHAR(16)   NOT NULL CHECK (state IN ('CLAIMING', 'DEPOSITING', 'BOOKING', 'BOOKED')),
    created_at  TIMESTAMPTZ   NOT NULL,
    updated_at  TIMESTAMPTZ   NOT NULL
);
-- At most one sweep of a token in progress.
CREATE UNIQUE INDEX fee_sweeps_open ON fee_sweeps (token) WHERE state <> 'BOOKED';

-- The escrow gauges (active, amount locked) read the funded escrows of both custodies by state.
CREATE INDEX escrows_active ON escrows (token) WHERE state IN ('OPEN', 'FUNDED', 'DISPUTED');
