-- Marketplace (issue 15): services agents offer, and direct requests to them. A request's money
-- is a ledger escrow of the escrow feature (escrow_id); this table holds the market's side: the
-- price, the completion, the scores and the performance-pay breakdown.

CREATE TABLE market_services (
    id                   VARCHAR(40)   PRIMARY KEY CHECK (id ~ '^svc_[0-9a-f]{32}$'),
    position             BIGSERIAL     NOT NULL UNIQUE,
    provider             CHAR(42)      NOT NULL CHECK (provider ~ '^0x[0-9a-f]{40}$'),
    state                VARCHAR(16)   NOT NULL CHECK (state IN ('ACTIVE', 'WITHDRAWN')),
    capabilities         VARCHAR(40)[] NOT NULL CHECK (cardinality(capabilities) BETWEEN 1 AND 16),
    description          VARCHAR(1000) NOT NULL,
    token                CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    price                NUMERIC(78,0) NOT NULL CHECK (price > 0),
    -- null: the price is per request; else per unit of this name
    unit                 VARCHAR(32),
    max_delivery_seconds BIGINT        NOT NULL CHECK (max_delivery_seconds > 0),
    -- the service's record, moved only by scored requests (in the scoring transaction)
    total_requests       BIGINT        NOT NULL DEFAULT 0 CHECK (total_requests >= 0),
    scored_requests      BIGINT        NOT NULL DEFAULT 0 CHECK (scored_requests >= 0),
    successful_requests  BIGINT        NOT NULL DEFAULT 0 CHECK (successful_requests >= 0),
    quality_sum          BIGINT        NOT NULL DEFAULT 0 CHECK (quality_sum >= 0),
    created_at           TIMESTAMPTZ   NOT NULL,
    updated_at           TIMESTAMPTZ   NOT NULL,
    CHECK (successful_requests <= scored_requests AND scored_requests <= total_requests)
);
CREATE INDEX market_services_capabilities ON market_services USING GIN (capabilities);
CREATE INDEX market_services_provider ON market_services (provider, position DESC);

CREATE TABLE market_requests (
    id                   VARCHAR(40)   PRIMARY KEY CHECK (id ~ '^req_[0-9a-f]{32}$'),
    position             BIGSERIAL     NOT NULL UNIQUE,
    service_id           VARCHAR(40)   NOT NULL REFERENCES market_services (id),
    consumer             CHAR(42)      NOT NULL CHECK (consumer ~ '^0x[0-9a-f]{40}$'),
    provider             CHAR(42)      NOT NULL CHECK (provider ~ '^0x[0-9a-f]{40}$' AND provider <> consumer),
    state                VARCHAR(16)   NOT NULL CHECK (state IN ('ESCROWED', 'COMPLETED', 'SCORED')),
    token                CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    units                BIGINT        NOT NULL CHECK (units >= 1),
    input                VARCHAR(512),
    base                 NUMERIC(78,0) NOT NULL CHECK (base > 0),
    max_multiplier_bps   INTEGER       NOT NULL CHECK (max_multiplier_bps BETWEEN 10000 AND 45000),
    escrowed             NUMERIC(78,0) NOT NULL CHECK (escrowed >= base),
    escrow_id            VARCHAR(64)   NOT NULL UNIQUE REFERENCES escrows (id),
    max_delivery_seconds BIGINT        NOT NULL CHECK (max_delivery_seconds > 0),
    created_at           TIMESTAMPTZ   NOT NULL,
    completed_at         TIMESTAMPTZ,
    result_ref           VARCHAR(512),
    scored_at            TIMESTAMPTZ,
    quality              INTEGER,
    accuracy             INTEGER,
    payout               NUMERIC(78,0),
    refund               NUMERIC(78,0),
    -- the PerformancePay breakdown as JSON (every multiplier, the clamp, the arithmetic)
    breakdown            TEXT,
    CHECK ((state = 'ESCROWED') = (completed_at IS NULL)),
    CHECK ((state = 'SCORED') = (scored_at IS NOT NULL)),
    CHECK ((state = 'SCORED') <= (payout IS NOT NULL AND refund IS NOT NULL AND payout + refund = escrowed))
);
CREATE INDEX market_requests_consumer ON market_requests (consumer, position DESC);
CREATE INDEX market_requests_provider ON market_requests (provider, position DESC);
-- recent completed requests per capability for the suggested price (joined to services)
CREATE INDEX market_requests_scored ON market_requests (service_id, scored_at DESC) WHERE state = 'SCORED';
