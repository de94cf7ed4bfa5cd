-- Marketplace (issue 15, continued): failure reports, the provider's dispute and the arbiter's
-- decision for direct requests, with the tasks' rules and columns: FAILURE_REPORTED (the consumer
-- or the evaluator reported a failure; the provider may dispute until dispute_window_ends),
-- DISPUTED (the arbiter decides), FAILED (refunded: undisputed after the window, or not delivered
-- by the end of the late window), RESOLVED (the arbiter's split was paid).
ALTER TABLE market_requests
    DROP CONSTRAINT market_requests_states,
    DROP CONSTRAINT market_requests_completed,
    DROP CONSTRAINT market_requests_paid,
    -- how long the provider may dispute a reported failure
    ADD COLUMN dispute_window_seconds BIGINT       NOT NULL DEFAULT 86400 CHECK (dispute_window_seconds > 0),
    ADD COLUMN failed_at              TIMESTAMPTZ,
    ADD COLUMN failure_reason         VARCHAR(32)  CHECK (failure_reason IN ('REPORTED', 'DEADLINE_MISSED')),
    ADD COLUMN failure_detail         VARCHAR(512),
    ADD COLUMN dispute_window_ends    TIMESTAMPTZ,
    ADD COLUMN disputed_at            TIMESTAMPTZ,
    ADD COLUMN dispute_detail         VARCHAR(512),
    ADD COLUMN decided_at             TIMESTAMPTZ,
    ADD CONSTRAINT market_requests_states CHECK (state IN ('ESCROWED', 'COMPLETED', 'SCORED', 'FAILURE_REPORTED',
        'DISPUTED', 'FAILED', 'RESOLVED', 'CLOSED')),
    ADD CONSTRAINT market_requests_completed CHECK ((state = 'ESCROWED') <= (completed_at IS NULL)
        AND (state IN ('COMPLETED', 'SCORED')) <= (completed_at IS NOT NULL)),
    ADD CONSTRAINT market_requests_failure CHECK ((state IN ('FAILURE_REPORTED', 'DISPUTED', 'FAILED', 'RESOLVED'))
        <= (failed_at IS NOT NULL AND failure_reason IS NOT NULL)
        AND (state IN ('ESCROWED', 'COMPLETED', 'SCORED')) <= (failed_at IS NULL)),
    ADD CONSTRAINT market_requests_window CHECK ((failure_reason = 'REPORTED') = (dispute_window_ends IS NOT NULL)),
    ADD CONSTRAINT market_requests_disputed CHECK ((state IN ('DISPUTED', 'RESOLVED')) <= (disputed_at IS NOT NULL)
        AND (state NOT IN ('DISPUTED', 'RESOLVED', 'CLOSED')) <= (disputed_at IS NULL)),
    ADD CONSTRAINT market_requests_decided CHECK ((state = 'RESOLVED') = (decided_at IS NOT NULL)),
    ADD CONSTRAINT market_requests_paid CHECK ((state IN ('FAILED', 'RESOLVED', 'CLOSED'))
        <= (payout IS NOT NULL AND refund IS NOT NULL AND payout + refund = escrowed));

DROP INDEX market_requests_unsettled;
CREATE INDEX market_requests_unsettled ON market_requests (created_at)
    WHERE state IN ('ESCROWED', 'COMPLETED', 'FAILURE_REPORTED', 'DISPUTED');
