-- Events for agents (issue 13): an outbox that features write in their own transaction, a feed per
-- recipient in the order the sequencer published them, webhook endpoints, and their deliveries with
-- every attempt.

-- The outbox. A feature inserts a row in the transaction of its state change (sequence NULL); the
-- sequencer, one at a time across instances, gives committed rows a sequence in order and fans them
-- out to the feed and to webhook deliveries. dedupe_key makes a publication exactly-once when the
-- publisher has a natural key (a deposit's post transfer, a batch's movement).
CREATE SEQUENCE event_sequence;
CREATE TABLE events (
    id          UUID          PRIMARY KEY,
    inserted    BIGSERIAL     NOT NULL UNIQUE,
    sequence    BIGINT        UNIQUE,
    type        VARCHAR(64)   NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    object_id   VARCHAR(128)  NOT NULL,
    recipients  CHAR(42)[]    NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 32),
    data        TEXT          NOT NULL CHECK (octet_length(data) <= 16384),
    dedupe_key  VARCHAR(200)  UNIQUE,
    created_at  TIMESTAMPTZ   NOT NULL
);
CREATE INDEX events_unsequenced ON events (inserted) WHERE sequence IS NULL;

-- What each recipient sees, in sequence order (GET /events, the SSE stream and Last-Event-ID).
CREATE TABLE event_feed (
    recipient CHAR(42) NOT NULL CHECK (recipient ~ '^0x[0-9a-f]{40}$'),
    sequence  BIGINT   NOT NULL,
    event_id  UUID     NOT NULL REFERENCES events (id),
    PRIMARY KEY (recipient, sequence)
);

-- Durable cursors of the pollers that turn the ledger's and settlement's facts into events; a
-- poller holds its row locked (FOR UPDATE SKIP LOCKED) while it publishes, so one instance at a
-- time moves each cursor, in the same transaction as the events it wrote.
CREATE TABLE event_cursors (
    name     VARCHAR(32) PRIMARY KEY,
    position BIGINT      NOT NULL CHECK (position >= 0)
);
INSERT INTO event_cursors (name, position) VALUES ('deposits', 0), ('settlements', 0);

-- Webhook endpoints of a principal; the secret signs deliveries (shown once at creation).
CREATE TABLE webhook_endpoints (
    id          UUID          PRIMARY KEY,
    owner       CHAR(42)      NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    url         VARCHAR(2048) NOT NULL,
    description VARCHAR(200),
    types       VARCHAR(64)[],
    secret      VARCHAR(100)  NOT NULL,
    created_at  TIMESTAMPTZ   NOT NULL,
    deleted_at  TIMESTAMPTZ
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner) WHERE deleted_at IS NULL;

-- One event to one endpoint: PENDING until an attempt gets a 2xx (DELIVERED), the attempts run out
-- (FAILED) or the endpoint is deleted (CANCELLED). next_attempt_at is also the lease of a claimed
-- delivery: a worker that dies mid-attempt leaves it to be tried again when the lease ends.
CREATE TABLE webhook_deliveries (
    id              UUID        PRIMARY KEY,
    endpoint_id     UUID        NOT NULL REFERENCES webhook_endpoints (id),
    event_id        UUID        NOT NULL REFERENCES events (id),
    state           VARCHAR(16) NOT NULL CHECK (state IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELLED')),
    attempts        INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ,
    UNIQUE (endpoint_id, event_id),
    CHECK ((state = 'PENDING') = (completed_at IS NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'PENDING';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC);

-- Every attempt of a delivery: the HTTP status (or none) and what went wrong.
CREATE TABLE webhook_attempts (
    delivery_id  UUID         NOT NULL REFERENCES webhook_deliveries (id),
    attempt      INTEGER      NOT NULL CHECK (attempt >= 1),
    started_at   TIMESTAMPTZ  NOT NULL,
    duration_ms  BIGINT       NOT NULL CHECK (duration_ms >= 0),
    status_code  INTEGER,
    error        VARCHAR(300),
    PRIMARY KEY (delivery_id, attempt)
);
