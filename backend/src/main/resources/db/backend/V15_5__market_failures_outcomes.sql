-- Marketplace (issue 15, continued): task failures with the winner's dispute before the platform's
-- arbiter, missed deadlines, evaluators of tasks and requests, and one table of outcomes that
-- every reputation is computed from (tasks and requests alike).

-- the task's new states: FAILURE_REPORTED (the poster or the evaluator reported a failure; the
-- winner may dispute until dispute_window_ends), DISPUTED (the winner disputed; the arbiter
-- decides), FAILED (refunded: undisputed after the window, or the late window passed without a
-- result), RESOLVED (the arbiter's split was paid)
DO $$
DECLARE c RECORD;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'backend.market_tasks'::regclass AND contype = 'c'
               AND (pg_get_constraintdef(oid) LIKE '%ALLOCATED%' OR pg_get_constraintdef(oid) LIKE '%COMPLETED%')
    LOOP
        EXECUTE 'ALTER TABLE backend.market_tasks DROP CONSTRAINT ' || quote_ident(c.conname);
    END LOOP;
END $$;

ALTER TABLE market_tasks
    -- who scores or reports failure instead of the poster (null: the poster)
    ADD COLUMN evaluator              CHAR(42)     CHECK (evaluator ~ '^0x[0-9a-f]{40}$' AND evaluator <> poster),
    -- how long the winner may dispute a reported failure
    ADD COLUMN dispute_window_seconds BIGINT       NOT NULL DEFAULT 86400 CHECK (dispute_window_seconds > 0),
    ADD COLUMN failed_at              TIMESTAMPTZ,
    -- REPORTED (by the poster or the evaluator) or DEADLINE_MISSED
    ADD COLUMN failure_reason         VARCHAR(32)  CHECK (failure_reason IN ('REPORTED', 'DEADLINE_MISSED')),
    ADD COLUMN failure_detail         VARCHAR(512),
    ADD COLUMN dispute_window_ends    TIMESTAMPTZ,
    ADD COLUMN disputed_at            TIMESTAMPTZ,
    ADD COLUMN dispute_detail         VARCHAR(512),
    ADD COLUMN decided_at             TIMESTAMPTZ,
    ADD CONSTRAINT market_tasks_states CHECK (state IN ('OPEN', 'ALLOCATED', 'UNALLOCATED', 'COMPLETED', 'SCORED',
        'FAILURE_REPORTED', 'DISPUTED', 'FAILED', 'RESOLVED')),
    ADD CONSTRAINT market_tasks_winner CHECK ((state NOT IN ('OPEN', 'UNALLOCATED'))
        = (winner IS NOT NULL AND escrow_id IS NOT NULL AND clearing_price IS NOT NULL AND escrowed IS NOT NULL)),
    ADD CONSTRAINT market_tasks_completed CHECK ((state IN ('COMPLETED', 'SCORED')) <= (completed_at IS NOT NULL)
        AND (state IN ('OPEN', 'UNALLOCATED', 'ALLOCATED')) <= (completed_at IS NULL)),
    ADD CONSTRAINT market_tasks_failure CHECK ((state IN ('FAILURE_REPORTED', 'DISPUTED', 'FAILED', 'RESOLVED'))
        = (failed_at IS NOT NULL AND failure_reason IS NOT NULL)),
    ADD CONSTRAINT market_tasks_window CHECK ((failure_reason = 'REPORTED') = (dispute_window_ends IS NOT NULL)),
    ADD CONSTRAINT market_tasks_disputed CHECK ((state IN ('DISPUTED', 'RESOLVED')) = (disputed_at IS NOT NULL)),
    ADD CONSTRAINT market_tasks_decided CHECK ((state = 'RESOLVED') = (decided_at IS NOT NULL)),
    ADD CONSTRAINT market_tasks_paid CHECK ((state IN ('SCORED', 'FAILED', 'RESOLVED'))
        <= (payout IS NOT NULL AND refund IS NOT NULL AND payout + refund = escrowed));

-- the leader's sweep of missed deadlines and ended dispute windows
CREATE INDEX market_tasks_running ON market_tasks (closed_at) WHERE state IN ('ALLOCATED', 'FAILURE_REPORTED');
-- task listings: open tasks by capability, the poster's, by state; the bidder's
CREATE INDEX market_tasks_listing ON market_tasks (state, position DESC);
CREATE INDEX market_tasks_capabilities ON market_tasks USING GIN (capabilities);
CREATE INDEX market_bids_bidder ON market_bids (bidder, task_id);

ALTER TABLE market_requests
    ADD COLUMN evaluator CHAR(42) CHECK (evaluator ~ '^0x[0-9a-f]{40}$' AND evaluator <> provider);
CREATE INDEX market_requests_evaluator ON market_requests (evaluator, position DESC) WHERE evaluator IS NOT NULL;

-- Every outcome of an agent's work, written once (kind, subject) in the transaction that settles it:
-- the only input of Reputation. counterparty: the one whose word it is (the evaluator, else the
-- consumer or poster); quality 0-200 (a failure is 0; an arbiter's split is its share of the base).
CREATE TABLE market_outcomes (
    id           BIGSERIAL    PRIMARY KEY,
    agent        CHAR(42)     NOT NULL CHECK (agent ~ '^0x[0-9a-f]{40}$'),
    counterparty CHAR(42)     NOT NULL CHECK (counterparty ~ '^0x[0-9a-f]{40}$'),
    kind         VARCHAR(8)   NOT NULL CHECK (kind IN ('REQUEST', 'TASK')),
    subject_id   VARCHAR(40)  NOT NULL,
    result       VARCHAR(16)  NOT NULL CHECK (result IN ('SCORED', 'FAILED', 'DEADLINE_MISSED', 'RESOLVED')),
    quality      INTEGER      NOT NULL CHECK (quality BETWEEN 0 AND 200),
    late         BOOLEAN      NOT NULL,
    at           TIMESTAMPTZ  NOT NULL,
    UNIQUE (kind, subject_id)
);
CREATE INDEX market_outcomes_agent ON market_outcomes (agent, at DESC);
CREATE INDEX market_outcomes_counterparty ON market_outcomes (counterparty, agent);

INSERT INTO market_outcomes (agent, counterparty, kind, subject_id, result, quality, late, at)
SELECT provider, consumer, 'REQUEST', id, 'SCORED', LEAST(200, GREATEST(0, quality)),
       completed_at > created_at + max_delivery_seconds * INTERVAL '1 second', scored_at
FROM market_requests WHERE state = 'SCORED';

INSERT INTO market_outcomes (agent, counterparty, kind, subject_id, result, quality, late, at)
SELECT winner, poster, 'TASK', id, 'SCORED', LEAST(200, GREATEST(0, quality)),
       completed_at > closed_at + work_seconds * INTERVAL '1 second', scored_at
FROM market_tasks WHERE state = 'SCORED';
