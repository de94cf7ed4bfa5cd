-- Ledger-custody escrows (issue 13): the terms and state of each escrow, its payees, who may see
-- it (by role), and the full history of its state changes. The money itself sits in the ledger's
-- ESCROW_FUNDS account named by the escrow id; every movement is a ledger transfer whose id is
-- derived from (escrow, action, payee, sequence), recorded here in the history.

CREATE TABLE escrows (
    id                   VARCHAR(64)   PRIMARY KEY CHECK (id ~ '^esc_[0-9a-f]{32}$'),
    position             BIGSERIAL     NOT NULL UNIQUE,
    custody              VARCHAR(8)    NOT NULL CHECK (custody IN ('LEDGER')),
    state                VARCHAR(16)   NOT NULL
        CHECK (state IN ('OPEN', 'FUNDED', 'DISPUTED', 'COMPLETED', 'REJECTED', 'EXPIRED', 'RESOLVED')),
    payer                CHAR(42)      NOT NULL CHECK (payer ~ '^0x[0-9a-f]{40}$'),
    token                CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    arbiter              CHAR(42)      NOT NULL CHECK (arbiter ~ '^0x[0-9a-f]{40}$'),
    evaluator            CHAR(42)      CHECK (evaluator ~ '^0x[0-9a-f]{40}$'),
    deadline             TIMESTAMPTZ   NOT NULL,
    grace_seconds        BIGINT        NOT NULL CHECK (grace_seconds >= 0),
    arbitration_seconds  BIGINT        NOT NULL CHECK (arbitration_seconds > 0),
    arbitration_deadline TIMESTAMPTZ,
    fee_bps              INTEGER       NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    max_fee_bps          INTEGER       NOT NULL CHECK (max_fee_bps BETWEEN 0 AND 10000 AND fee_bps <= max_fee_bps),
    fallback             VARCHAR(16)   NOT NULL CHECK (fallback IN ('REFUND_PAYER', 'PAY_PAYEES', 'SPLIT_EVENLY')),
    atomic               BOOLEAN       NOT NULL,
    terms_hash           CHAR(66)      NOT NULL CHECK (terms_hash ~ '^0x[0-9a-f]{64}$'),
    amount               NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    held                 NUMERIC(78,0) NOT NULL CHECK (held >= 0 AND held <= amount),
    fees_paid            NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (fees_paid >= 0),
    -- actions applied so far (the sequence of the history); part of every derived transfer id
    version              INTEGER       NOT NULL CHECK (version >= 1),
    -- when the scheduler has something to do: refund after deadline + grace, fallback after the
    -- arbitration deadline; null in a final state
    due_at               TIMESTAMPTZ,
    created_at           TIMESTAMPTZ   NOT NULL,
    updated_at           TIMESTAMPTZ   NOT NULL,
    CHECK ((state IN ('COMPLETED', 'REJECTED', 'EXPIRED', 'RESOLVED')) = (due_at IS NULL)),
    CHECK ((state IN ('COMPLETED', 'REJECTED', 'EXPIRED', 'RESOLVED')) = (held = 0)),
    CHECK ((state = 'DISPUTED') <= (arbitration_deadline IS NOT NULL))
);
CREATE INDEX escrows_due ON escrows (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE escrow_payees (
    escrow_id   VARCHAR(64)   NOT NULL REFERENCES escrows (id),
    idx         INTEGER       NOT NULL CHECK (idx BETWEEN 0 AND 15),
    account     CHAR(42)      NOT NULL CHECK (account ~ '^0x[0-9a-f]{40}$'),
    share       NUMERIC(78,0) NOT NULL CHECK (share > 0),
    released    NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (released >= 0 AND released <= share),
    accepted_at TIMESTAMPTZ,
    PRIMARY KEY (escrow_id, idx)
);

-- Who may see an escrow, and in which role: one row per (escrow, party, role).
CREATE TABLE escrow_parties (
    escrow_id VARCHAR(64) NOT NULL REFERENCES escrows (id),
    position  BIGINT      NOT NULL,
    party     CHAR(42)    NOT NULL CHECK (party ~ '^0x[0-9a-f]{40}$'),
    role      VARCHAR(16) NOT NULL CHECK (role IN ('PAYER', 'PAYEE', 'ARBITER', 'EVALUATOR')),
    PRIMARY KEY (escrow_id, party, role)
);
CREATE INDEX escrow_parties_party ON escrow_parties (party, position DESC);

-- Every state change of every escrow, in order (seq = the escrow's version after the change),
-- with the ledger transfers it made (escrow_transfers): what the event outbox can later be fed from.
CREATE TABLE escrow_history (
    id          BIGSERIAL    PRIMARY KEY,
    escrow_id   VARCHAR(64)  NOT NULL REFERENCES escrows (id),
    seq         INTEGER      NOT NULL,
    action      VARCHAR(24)  NOT NULL,
    actor       VARCHAR(64)  NOT NULL,
    rule        VARCHAR(32),
    from_state  VARCHAR(16),
    to_state    VARCHAR(16)  NOT NULL,
    detail      VARCHAR(256),
    occurred_at TIMESTAMPTZ  NOT NULL,
    UNIQUE (escrow_id, seq)
);

-- The ledger transfers of each history entry (payouts to payees, fees, back to the payer, the funding).
CREATE TABLE escrow_transfers (
    escrow_id   VARCHAR(64)   NOT NULL REFERENCES escrows (id),
    seq         INTEGER       NOT NULL,
    transfer_id UUID          NOT NULL UNIQUE,
    kind        VARCHAR(8)    NOT NULL CHECK (kind IN ('FUND', 'PAYEE', 'FEE', 'PAYER')),
    idx         INTEGER       NOT NULL,
    account     CHAR(42)      CHECK (account ~ '^0x[0-9a-f]{40}$'),
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    ledger_seq  BIGINT        NOT NULL,
    PRIMARY KEY (escrow_id, seq, transfer_id),
    FOREIGN KEY (escrow_id, seq) REFERENCES escrow_history (escrow_id, seq)
);
