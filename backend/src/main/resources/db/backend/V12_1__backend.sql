-- The service's own tables (issue 12), in schema backend beside the batcher's (public).

-- SIWE nonces: each is consumed (deleted) at most once.
CREATE TABLE siwe_nonces (
    nonce      VARCHAR(64) PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- API keys, stored as the SHA-256 of the key; scoped to the address that created them.
CREATE TABLE api_keys (
    id         UUID        PRIMARY KEY,
    owner      CHAR(42)    NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    name       VARCHAR(64) NOT NULL,
    key_hash   CHAR(64)    NOT NULL UNIQUE,
    key_prefix VARCHAR(16) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_keys_owner ON api_keys (owner, created_at DESC);

-- Idempotency-Key records: the first response of each (principal, key), kept at least 24 h.
CREATE TABLE idempotency_keys (
    principal       VARCHAR(64)  NOT NULL,
    idempotency_key VARCHAR(255) NOT NULL,
    request_hash    CHAR(64)     NOT NULL,
    state           VARCHAR(16)  NOT NULL CHECK (state IN ('IN_FLIGHT', 'DONE')),
    status          INTEGER,
    content_type    VARCHAR(128),
    body            BYTEA,
    created_at      TIMESTAMPTZ  NOT NULL,
    completed_at    TIMESTAMPTZ,
    PRIMARY KEY (principal, idempotency_key),
    CHECK ((state = 'DONE') = (status IS NOT NULL AND completed_at IS NOT NULL))
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Withdrawals asked for through the API (the ledger transfer USER -> PAYOUTS has the same id).
CREATE TABLE withdrawals (
    id         UUID          PRIMARY KEY,
    owner      CHAR(42)      NOT NULL CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    token      CHAR(42)      NOT NULL CHECK (token ~ '^0x[0-9a-f]{40}$'),
    amount     NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    created_at TIMESTAMPTZ   NOT NULL
);
CREATE INDEX withdrawals_owner ON withdrawals (owner, created_at DESC);

-- Audit records of every state change the service makes besides micropayments (whose ledger
-- transfer is their record).
CREATE TABLE audit_records (
    id              BIGSERIAL     PRIMARY KEY,
    occurred_at     TIMESTAMPTZ   NOT NULL,
    principal       VARCHAR(64)   NOT NULL,
    action          VARCHAR(64)   NOT NULL,
    object_type     VARCHAR(32)   NOT NULL,
    object_id       VARCHAR(128)  NOT NULL,
    token           CHAR(42),
    amount          NUMERIC(78,0),
    request_id      VARCHAR(64),
    idempotency_key VARCHAR(255)
);
CREATE INDEX audit_records_principal ON audit_records (principal, id DESC);
