-- Chain escrows that never stay stuck (issue 13): a pending escrow whose funding can no longer happen
-- expires; the service's sends whose nonce another sender of the same key used are signed again with a
-- fresh nonce (each lost attempt kept); events published for blocks a reorganisation dropped are
-- retracted. See docs/escrows-api.md, "Chain escrows never stuck".

-- When the service expired a pending chain escrow: the follower's confirmed chain had passed the
-- escrow's deadline with no Created event (from then on the contract refuses to create it).
ALTER TABLE chain_escrows ADD COLUMN funding_expired_at TIMESTAMPTZ;

-- Which attempt of its purpose a send is (1: the first signature; each NONCE_LOST retry adds one).
ALTER TABLE chain_sends ADD COLUMN attempt INT NOT NULL DEFAULT 1 CHECK (attempt >= 1);

-- The attempts whose nonce another sender of the same key used (never mined, never to be mined).
CREATE TABLE chain_send_lost (
    purpose     VARCHAR(120) NOT NULL REFERENCES chain_sends (purpose),
    attempt     INT          NOT NULL CHECK (attempt >= 1),
    signer      CHAR(42)     NOT NULL CHECK (signer ~ '^0x[0-9a-f]{40}$'),
    nonce       BIGINT       NOT NULL CHECK (nonce >= 0),
    tx_hash     CHAR(66)     NOT NULL UNIQUE,
    lost_at     TIMESTAMPTZ  NOT NULL,
    PRIMARY KEY (purpose, attempt)
);

-- Each retraction of a chain escrow's published event (its transaction's block left the chain): the
-- n-th retraction of (escrow, tx hash). The transaction mined again is published anew under the
-- generation's key.
CREATE TABLE chain_escrow_retractions (
    escrow_id    VARCHAR(64) NOT NULL REFERENCES escrows (id),
    tx_hash      CHAR(66)    NOT NULL CHECK (tx_hash ~ '^0x[0-9a-f]{64}$'),
    generation   INT         NOT NULL CHECK (generation >= 1),
    block_number BIGINT      NOT NULL,
    retracted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (escrow_id, tx_hash, generation)
);
