-- Marketplace tasks (issue 15): a poster's task with a budget, sealed bids of agents whose
-- services cover its capabilities, and the reverse Vickrey allocation that funds the poster's
-- ledger escrow to the winner in the same transaction (escrow_id). Completion and scoring pay the
-- winner by performance out of that escrow, as requests do.

CREATE TABLE market_tasks (
    id                   VARCHAR(40)   PRIMARY KEY CHECK (id ~ '^task_[0-9a-f]{32}$'),
    position             BIGSERIAL     NOT NULL UNIQUE,
    poster               CHAR(42)      NOT NULL CHECK (poster ~ '^0x[0-9a-f]{40}$'),
    -- OPEN: bidding; ALLOCATED: escrow funded for the winner; UNALLOCATED: closed without a winner
    -- (reason); COMPLETED: the winner delivered; SCORED: paid by performance, the rest refunded
    state                VARCHAR(16)   NOT NULL
                         CHECK (state IN ('OPEN', 'ALLOCATED', 'UNALLOCATED', 'COMPLETED', 'SCORED')),
    capabilities         VARCHAR(40)[] NOT NULL CHECK (cardinality(capabilities) BETWEEN 1 AND 16),
    description          VARCHAR(1000),
    token                CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    budget               NUMERIC(78,0) NOT NULL CHECK (budget > 0),
    max_multiplier_bps   INTEGER       NOT NULL CHECK (max_multiplier_bps BETWEEN 10000 AND 45000),
    -- floor(budget * 10,000 / max_multiplier_bps)
    max_base_price       NUMERIC(78,0) NOT NULL CHECK (max_base_price > 0),
    bidding_closes_at    TIMESTAMPTZ   NOT NULL,
    -- the time allowed for the work, from the allocation (the speed multiplier's allowed time)
    work_seconds         BIGINT        NOT NULL CHECK (work_seconds > 0),
    created_at           TIMESTAMPTZ   NOT NULL,
    closed_at            TIMESTAMPTZ,
    -- why an UNALLOCATED task has no winner: NO_BIDS, INSUFFICIENT_FUNDS or the escrow's refusal code
    reason               VARCHAR(64),
    winner               CHAR(42)      CHECK (winner ~ '^0x[0-9a-f]{40}$' AND winner <> poster),
    clearing_price       NUMERIC(78,0) CHECK (clearing_price > 0),
    reserve_applied      BOOLEAN,
    escrowed             NUMERIC(78,0) CHECK (escrowed >= clearing_price AND escrowed <= budget),
    escrow_id            VARCHAR(64)   UNIQUE REFERENCES escrows (id),
    completed_at         TIMESTAMPTZ,
    result_ref           VARCHAR(512),
    scored_at            TIMESTAMPTZ,
    quality              INTEGER,
    accuracy             INTEGER,
    payout               NUMERIC(78,0),
    refund               NUMERIC(78,0),
    breakdown            TEXT,
    CHECK ((state = 'OPEN') = (closed_at IS NULL)),
    CHECK ((state = 'UNALLOCATED') = (reason IS NOT NULL)),
    CHECK ((state IN ('ALLOCATED', 'COMPLETED', 'SCORED'))
           = (winner IS NOT NULL AND escrow_id IS NOT NULL AND clearing_price IS NOT NULL AND escrowed IS NOT NULL)),
    CHECK ((state IN ('COMPLETED', 'SCORED')) = (completed_at IS NOT NULL)),
    CHECK ((state = 'SCORED') = (scored_at IS NOT NULL)),
    CHECK ((state = 'SCORED') <= (payout IS NOT NULL AND refund IS NOT NULL AND payout + refund = escrowed))
);
CREATE INDEX market_tasks_poster ON market_tasks (poster, position DESC);
-- the leader's sweep of closed bidding windows
CREATE INDEX market_tasks_open ON market_tasks (bidding_closes_at) WHERE state = 'OPEN';

CREATE TABLE market_bids (
    task_id              VARCHAR(40)   NOT NULL REFERENCES market_tasks (id),
    bidder               CHAR(42)      NOT NULL CHECK (bidder ~ '^0x[0-9a-f]{40}$'),
    -- the order the bids were stored in: the auction's tie rule
    sequence             BIGSERIAL     NOT NULL UNIQUE,
    ask                  NUMERIC(78,0) NOT NULL CHECK (ask > 0),
    created_at           TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (task_id, bidder)
);
