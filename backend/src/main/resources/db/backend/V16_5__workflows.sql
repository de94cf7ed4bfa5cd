-- Multi-agent workflows (issue 16): a DAG of steps paid out of one ledger escrow account
-- (ESCROW_FUNDS named by the workflow id), funded up front in one transfer. Each step's outcome,
-- what it was paid (net, and the platform's fee) or refunded, and every ledger transfer made.

CREATE TABLE workflows (
    id           VARCHAR(64)   PRIMARY KEY CHECK (id ~ '^wf_[0-9a-f]{32}$'),
    payer        CHAR(42)      NOT NULL CHECK (payer ~ '^0x[0-9a-f]{40}$'),
    token        CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    evaluator    CHAR(42)      CHECK (evaluator ~ '^0x[0-9a-f]{40}$'),
    mode         VARCHAR(8)    NOT NULL CHECK (mode IN ('FLEXIBLE', 'ATOMIC')),
    split        VARCHAR(16)   NOT NULL CHECK (split IN ('EQUAL', 'WEIGHTS', 'PRICES', 'EXECUTION_TIME')),
    state        VARCHAR(16)   NOT NULL CHECK (state IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'PARTIAL')),
    amount       NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    paid         NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (paid >= 0),
    fees         NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (fees >= 0),
    refunded     NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    -- the platform and protocol fees in force at creation (fee/FeeRates), fixed for the workflow
    fee_bps      INTEGER       NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    protocol_fee_bps INTEGER   NOT NULL CHECK (protocol_fee_bps BETWEEN 0 AND 10000),
    max_fee_bps  INTEGER       NOT NULL CHECK (max_fee_bps BETWEEN 0 AND 10000
                                               AND fee_bps + protocol_fee_bps <= max_fee_bps),
    -- performance pay per step (market/PerformancePay): the largest total multiplier; null for none
    max_multiplier_bps INTEGER CHECK (max_multiplier_bps BETWEEN 10000 AND 45000),
    version      INTEGER       NOT NULL CHECK (version >= 1),
    -- the earliest deadline of a step not yet finished: when the leader's schedule looks again
    due_at       TIMESTAMPTZ,
    created_at   TIMESTAMPTZ   NOT NULL,
    updated_at   TIMESTAMPTZ   NOT NULL,
    CHECK (paid + fees + refunded <= amount),
    CHECK ((state = 'RUNNING') = (due_at IS NOT NULL)),
    CHECK ((state = 'RUNNING') OR paid + fees + refunded = amount)
);
CREATE INDEX workflows_due ON workflows (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE workflow_steps (
    workflow_id  VARCHAR(64)   NOT NULL REFERENCES workflows (id),
    idx          INTEGER       NOT NULL CHECK (idx BETWEEN 0 AND 15),
    step_key     VARCHAR(32)   NOT NULL CHECK (step_key ~ '^[A-Za-z0-9_-]{1,32}$'),
    agent        CHAR(42)      NOT NULL CHECK (agent ~ '^0x[0-9a-f]{40}$'),
    capability   VARCHAR(64)   NOT NULL,
    deadline     TIMESTAMPTZ   NOT NULL,
    -- the keys of the steps it depends on, comma-separated (keys have no commas)
    depends_on   VARCHAR(600)  NOT NULL CHECK (depends_on ~ '^([A-Za-z0-9_-]{1,32}(,[A-Za-z0-9_-]{1,32})*)?$'),
    weight       NUMERIC(78,0) NOT NULL CHECK (weight > 0),
    -- null until known: an EXECUTION_TIME split is computed when the last step succeeds
    share        NUMERIC(78,0) CHECK (share >= 0),
    state        VARCHAR(16)   NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED')),
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    reported_by  VARCHAR(64),
    reason       VARCHAR(256),
    paid         NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (paid >= 0),
    fee          NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (fee >= 0),
    refunded     NUMERIC(78,0) NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    -- the evaluator's scores of a success under performance pay, and the payout's arithmetic
    quality      INTEGER       CHECK (quality BETWEEN 0 AND 200),
    accuracy     INTEGER       CHECK (accuracy BETWEEN 0 AND 150),
    performance  VARCHAR(400),
    PRIMARY KEY (workflow_id, idx),
    UNIQUE (workflow_id, step_key),
    CHECK ((state IN ('SUCCEEDED', 'FAILED')) = (finished_at IS NOT NULL)),
    CHECK ((state = 'WAITING') <= (started_at IS NULL))
);
CREATE INDEX workflow_steps_agent ON workflow_steps (agent);

-- Every ledger transfer of a workflow: the funding, each payout to an agent, each fee, each refund.
CREATE TABLE workflow_transfers (
    workflow_id  VARCHAR(64)   NOT NULL REFERENCES workflows (id),
    transfer_id  UUID          NOT NULL UNIQUE,
    kind         VARCHAR(16)   NOT NULL CHECK (kind IN ('FUND', 'AGENT', 'FEE', 'PROTOCOL_FEE', 'PAYER')),
    idx          INTEGER       NOT NULL,
    account      CHAR(42)      CHECK (account ~ '^0x[0-9a-f]{40}$'),
    amount       NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    ledger_seq   BIGINT        NOT NULL,
    occurred_at  TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (workflow_id, transfer_id)
);
