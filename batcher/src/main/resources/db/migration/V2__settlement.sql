-- Settlement and indexer state next to the ledger (see docs/settlement.md, "PostgreSQL store").

-- The deposit indexer's last fully processed block, one row per event stream.
CREATE TABLE indexer_checkpoints (
    stream       VARCHAR(64) PRIMARY KEY,
    block_number BIGINT      NOT NULL CHECK (block_number >= 0),
    block_hash   CHAR(66)    NOT NULL CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
    updated_at   TIMESTAMPTZ NOT NULL
);

-- transfers.batch_id, as settlement uses it:
--   NULL  committed, not yet looked at by settlement (index transfers_unbatched)
--   > 0   claimed by (and, once that batch is confirmed, settled in) the batch with this id
--   0     has no on-chain movement (deposits, payout completions, holds, voids, expiries)
--   -1    quarantined (see settlement_quarantine): never batched again

-- One row per built batch. Several rows may share a batch id: reverted ones and at most one other.
CREATE TABLE settlement_batches (
    row_id            BIGSERIAL   PRIMARY KEY,
    batch_id          BIGINT      NOT NULL CHECK (batch_id > 0),
    state             VARCHAR(16) NOT NULL CHECK (state IN ('BUILT', 'SUBMITTED', 'CONFIRMED', 'REVERTED')),
    merkle_root       CHAR(66)    NOT NULL CHECK (merkle_root ~ '^0x[0-9a-f]{64}$'),
    search_from_block BIGINT      NOT NULL CHECK (search_from_block >= 0),
    confirmed_tx_hash CHAR(66),
    confirmed_block   BIGINT,
    gas_used          BIGINT,
    failure           TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK ((state = 'CONFIRMED') = (confirmed_tx_hash IS NOT NULL AND confirmed_block IS NOT NULL AND gas_used IS NOT NULL)),
    CHECK ((state = 'REVERTED') = (failure IS NOT NULL))
);
-- At most one open batch, and each batch id confirmed at most once.
CREATE UNIQUE INDEX settlement_batches_one_open ON settlement_batches ((TRUE)) WHERE state IN ('BUILT', 'SUBMITTED');
CREATE UNIQUE INDEX settlement_batches_confirmed ON settlement_batches (batch_id) WHERE state = 'CONFIRMED';

-- The movements of a batch row in leaf order: enough to rebuild its NettedBatch (BatchNetting).
CREATE TABLE settlement_batch_movements (
    batch_row_id BIGINT        NOT NULL REFERENCES settlement_batches (row_id),
    position     INTEGER       NOT NULL CHECK (position >= 0),
    transfer_id  UUID          NOT NULL,
    kind         VARCHAR(16)   NOT NULL CHECK (kind IN ('TRANSFER', 'WITHDRAWAL')),
    token        CHAR(42)      NOT NULL,
    from_address CHAR(42)      NOT NULL,
    to_address   CHAR(42)      NOT NULL,
    amount       NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (batch_row_id, position)
);
CREATE INDEX settlement_batch_movements_transfer ON settlement_batch_movements (transfer_id);

-- Every signed settleBatch transaction of a batch row, in signing order.
CREATE TABLE settlement_transactions (
    batch_row_id BIGINT      NOT NULL REFERENCES settlement_batches (row_id),
    position     INTEGER     NOT NULL CHECK (position >= 0),
    tx_hash      CHAR(66)    NOT NULL UNIQUE,
    nonce        BIGINT      NOT NULL CHECK (nonce >= 0),
    raw_tx       TEXT        NOT NULL,
    from_address CHAR(42)    NOT NULL,
    to_address   CHAR(42)    NOT NULL,
    signed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_row_id, position)
);

-- Movements taken out of settlement for a person to resolve (a compensating transfer or a fix).
CREATE TABLE settlement_quarantine (
    transfer_id    UUID        PRIMARY KEY,
    reason         TEXT        NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);
