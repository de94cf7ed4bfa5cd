-- Contract-log followers (issue 13, chain custody): one cursor per follower (the last block whose
-- logs it applied, with that block's hash), and the hashes of the blocks it applied logs from (and
-- of each cursor block), kept for a bounded depth, so that a reorganisation is found by hash and
-- undone back to the newest block still on the chain. See docs/escrows-api.md, "The follower".

CREATE TABLE chainlog_cursors (
    follower     VARCHAR(64) PRIMARY KEY CHECK (follower ~ '^[a-z0-9][a-z0-9-]*$'),
    block_number BIGINT      NOT NULL CHECK (block_number >= -1),
    -- null until the first range is applied (the cursor then sits before the start block)
    block_hash   CHAR(66)    CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE chainlog_blocks (
    follower     VARCHAR(64) NOT NULL REFERENCES chainlog_cursors (follower),
    block_number BIGINT      NOT NULL CHECK (block_number >= 0),
    block_hash   CHAR(66)    NOT NULL CHECK (block_hash ~ '^0x[0-9a-f]{64}$'),
    PRIMARY KEY (follower, block_number)
);
