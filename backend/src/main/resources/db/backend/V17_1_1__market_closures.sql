-- Marketplace (issue 15, continued): a task or request whose escrow ended by the escrow's own rules
-- rather than a marketplace step (the deadline and grace passed unscored, the arbiter never decided
-- and the fallback applied, or a party acted through the escrow API) reaches a final state that
-- says so: CLOSED with closure EXPIRED, FALLBACK, ARBITER or RELEASED, and what the escrow paid.

-- tasks: CLOSED may follow ALLOCATED, COMPLETED, FAILURE_REPORTED or DISPUTED, so the failure and
-- dispute columns are required in their own states and allowed in CLOSED
ALTER TABLE market_tasks
    DROP CONSTRAINT market_tasks_states,
    DROP CONSTRAINT market_tasks_failure,
    DROP CONSTRAINT market_tasks_disputed,
    DROP CONSTRAINT market_tasks_paid,
    ADD COLUMN closure    VARCHAR(16) CHECK (closure IN ('EXPIRED', 'FALLBACK', 'ARBITER', 'RELEASED')),
    ADD COLUMN closure_at TIMESTAMPTZ,
    ADD CONSTRAINT market_tasks_states CHECK (state IN ('OPEN', 'ALLOCATED', 'UNALLOCATED', 'COMPLETED', 'SCORED',
        'FAILURE_REPORTED', 'DISPUTED', 'FAILED', 'RESOLVED', 'CLOSED')),
    ADD CONSTRAINT market_tasks_failure CHECK ((state IN ('FAILURE_REPORTED', 'DISPUTED', 'FAILED', 'RESOLVED'))
        <= (failed_at IS NOT NULL AND failure_reason IS NOT NULL)
        AND (state IN ('OPEN', 'UNALLOCATED', 'ALLOCATED', 'COMPLETED', 'SCORED')) <= (failed_at IS NULL)),
    ADD CONSTRAINT market_tasks_disputed CHECK ((state IN ('DISPUTED', 'RESOLVED')) <= (disputed_at IS NOT NULL)
        AND (state NOT IN ('DISPUTED', 'RESOLVED', 'CLOSED')) <= (disputed_at IS NULL)),
    ADD CONSTRAINT market_tasks_closure CHECK ((state = 'CLOSED') = (closure IS NOT NULL AND closure_at IS NOT NULL)),
    ADD CONSTRAINT market_tasks_paid CHECK ((state IN ('SCORED', 'FAILED', 'RESOLVED', 'CLOSED'))
        <= (payout IS NOT NULL AND refund IS NOT NULL AND payout + refund = escrowed));

-- requests: CLOSED may follow ESCROWED (never delivered) or COMPLETED (never scored)
DO $$
DECLARE c RECORD;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'backend.market_requests'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%ESCROWED%'
    LOOP
        EXECUTE 'ALTER TABLE backend.market_requests DROP CONSTRAINT ' || quote_ident(c.conname);
    END LOOP;
END $$;

ALTER TABLE market_requests
    ADD COLUMN closure    VARCHAR(16) CHECK (closure IN ('EXPIRED', 'FALLBACK', 'ARBITER', 'RELEASED')),
    ADD COLUMN closure_at TIMESTAMPTZ,
    ADD CONSTRAINT market_requests_states CHECK (state IN ('ESCROWED', 'COMPLETED', 'SCORED', 'CLOSED')),
    ADD CONSTRAINT market_requests_completed CHECK ((state = 'ESCROWED') <= (completed_at IS NULL)
        AND (state IN ('COMPLETED', 'SCORED')) <= (completed_at IS NOT NULL)),
    ADD CONSTRAINT market_requests_closure CHECK ((state = 'CLOSED') = (closure IS NOT NULL AND closure_at IS NOT NULL)),
    ADD CONSTRAINT market_requests_paid CHECK ((state = 'CLOSED')
        <= (payout IS NOT NULL AND refund IS NOT NULL AND payout + refund = escrowed));

-- the leader's sweep of running tasks and requests, joined to their escrows' due times
CREATE INDEX market_tasks_unsettled ON market_tasks (closed_at)
    WHERE state IN ('ALLOCATED', 'COMPLETED', 'FAILURE_REPORTED', 'DISPUTED');
CREATE INDEX market_requests_unsettled ON market_requests (created_at) WHERE state IN ('ESCROWED', 'COMPLETED');
