-- Payment channels through the service (issue 14): the PaymentChannels events the indexer read
-- after the confirmations, each channel's state folded from them, the newest balance proof of each
-- direction that a participant stored, participants' registrations (with the watchtower opt-out),
-- and the watchtower's submissions, each persisted before it is sent.

-- Every event of the contract up to the confirmed block (read by the contract-log follower,
-- V13_7), in chain order; a reorganisation deletes the rows of the blocks it dropped and the
-- channels are folded again from the rest.
CREATE TABLE channel_events (
    contract     CHAR(42)      NOT NULL,
    block_number BIGINT        NOT NULL,
    log_index    BIGINT        NOT NULL,
    block_hash   CHAR(66)      NOT NULL,
    tx_hash      CHAR(66)      NOT NULL,
    channel_id   CHAR(66)      NOT NULL,
    kind         VARCHAR(24)   NOT NULL,
    address1     CHAR(42),
    address2     CHAR(42),
    address3     CHAR(42),
    address4     CHAR(42),
    amount1      NUMERIC(78,0),
    amount2      NUMERIC(78,0),
    nonce        NUMERIC(78,0),
    seconds      BIGINT,
    flag         BOOLEAN,
    PRIMARY KEY (contract, block_number, log_index)
);
CREATE INDEX channel_events_channel ON channel_events (channel_id, block_number, log_index);

-- A channel as its confirmed events leave it (the contract's state at the confirmed block).
CREATE TABLE channels (
    id               CHAR(66)      PRIMARY KEY,
    position         BIGSERIAL     NOT NULL UNIQUE,
    token            CHAR(42)      NOT NULL,
    participant_a    CHAR(42)      NOT NULL,
    participant_b    CHAR(42)      NOT NULL,
    key_a            CHAR(42)      NOT NULL,
    key_b            CHAR(42),
    state            VARCHAR(16)   NOT NULL CHECK (state IN ('PENDING', 'OPEN', 'CLOSING', 'SETTLED')),
    challenge_period BIGINT        NOT NULL,
    deposit_a        NUMERIC(78,0) NOT NULL,
    deposit_b        NUMERIC(78,0) NOT NULL,
    withdrawn_a      NUMERIC(78,0) NOT NULL,
    withdrawn_b      NUMERIC(78,0) NOT NULL,
    nonce_a          NUMERIC(78,0) NOT NULL,
    transferred_a    NUMERIC(78,0) NOT NULL,
    nonce_b          NUMERIC(78,0) NOT NULL,
    transferred_b    NUMERIC(78,0) NOT NULL,
    closer           CHAR(42),
    closes_at        TIMESTAMPTZ,
    payout_a         NUMERIC(78,0),
    payout_b         NUMERIC(78,0),
    cooperative      BOOLEAN,
    unclaimed_a      NUMERIC(78,0) NOT NULL,
    unclaimed_b      NUMERIC(78,0) NOT NULL,
    updated_block    BIGINT        NOT NULL
);
CREATE INDEX channels_a ON channels (participant_a, position DESC);
CREATE INDEX channels_b ON channels (participant_b, position DESC);
CREATE INDEX channels_closing ON channels (closes_at) WHERE state = 'CLOSING';

-- The newest proof each signer's counterparty stored: one row per (channel, signer), replaced only
-- by a proof with a larger nonce and a total at least as large.
CREATE TABLE channel_proofs (
    channel_id  CHAR(66)      NOT NULL,
    signer      CHAR(42)      NOT NULL,
    nonce       NUMERIC(78,0) NOT NULL CHECK (nonce > 0),
    transferred NUMERIC(78,0) NOT NULL CHECK (transferred >= 0),
    signature   CHAR(132)     NOT NULL,
    digest      CHAR(66)      NOT NULL,
    stored_by   CHAR(42)      NOT NULL,
    stored_at   TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (channel_id, signer)
);

-- A participant's registration of a channel (explicit, or with its first stored proof); the
-- watchtower defends only registered participants that did not opt out.
CREATE TABLE channel_registrations (
    channel_id    CHAR(66)    NOT NULL,
    participant   CHAR(42)    NOT NULL,
    watchtower    BOOLEAN     NOT NULL,
    registered_at TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel_id, participant)
);

-- The watchtower's submissions of a proof: INTENDED is written before anything is signed, SIGNED
-- (with the signed bytes) before they are broadcast, so a crash never makes it send a second
-- transaction for one proof; after a restart only these bytes are broadcast again.
CREATE TABLE channel_watchtower_submissions (
    id          BIGSERIAL     PRIMARY KEY,
    channel_id  CHAR(66)      NOT NULL,
    signer      CHAR(42)      NOT NULL,
    defended    CHAR(42)      NOT NULL,
    nonce       NUMERIC(78,0) NOT NULL,
    transferred NUMERIC(78,0) NOT NULL,
    state       VARCHAR(16)   NOT NULL CHECK (state IN ('INTENDED', 'SIGNED', 'SUCCEEDED', 'FAILED', 'EXPIRED',
                                                        'SUPERSEDED')),
    tx_hash     CHAR(66),
    tx_nonce    BIGINT,
    raw_tx      TEXT,
    gas_used    BIGINT,
    detail      VARCHAR(300),
    created_at  TIMESTAMPTZ   NOT NULL,
    updated_at  TIMESTAMPTZ   NOT NULL,
    UNIQUE (channel_id, signer, transferred),
    CHECK ((state = 'INTENDED') = (raw_tx IS NULL) OR state IN ('EXPIRED', 'SUPERSEDED', 'FAILED'))
);
CREATE INDEX channel_watchtower_open ON channel_watchtower_submissions (id) WHERE state IN ('INTENDED', 'SIGNED');
