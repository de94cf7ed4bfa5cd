-- Issue 10 (F8): custody events are booked in two phases. Each booking of one inclusion of an
-- event (a deposit or an escape withdrawal) is a row here, written before the ledger sees its hold:
-- PENDING (held: the ledger's pending transfer), POSTED (final at the confirmation depth), VOIDED
-- (its block left the chain) or REJECTED (the ledger refused it). An event is identified across the
-- blocks its transaction may be mined in by (kind, tx_hash, ordinal); incarnation counts its
-- bookings, so a re-mined event gets a fresh hold id. (Numbered 10.5 so it never collides with other
-- branches' migrations.)
CREATE TABLE indexer_custody_holds (
    stream       VARCHAR(64)   NOT NULL,
    kind         VARCHAR(8)    NOT NULL CHECK (kind IN ('DEPOSIT', 'ESCAPE')),
    tx_hash      CHAR(66)      NOT NULL,
    ordinal      INTEGER       NOT NULL CHECK (ordinal >= 0),
    incarnation  INTEGER       NOT NULL CHECK (incarnation >= 0),
    block_number BIGINT        NOT NULL CHECK (block_number >= 0),
    block_hash   CHAR(66)      NOT NULL,
    log_index    BIGINT        NOT NULL CHECK (log_index >= 0),
    token        CHAR(42)      NOT NULL,
    account      CHAR(42)      NOT NULL,
    amount       NUMERIC(78,0) NOT NULL CHECK (amount >= 0),
    state        VARCHAR(8)    NOT NULL CHECK (state IN ('PENDING', 'POSTED', 'VOIDED', 'REJECTED')),
    updated_at   TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (stream, kind, tx_hash, ordinal, incarnation)
);
-- Never credit twice: at most one booking of an event stands at any time.
CREATE UNIQUE INDEX indexer_custody_holds_live ON indexer_custody_holds (stream, kind, tx_hash, ordinal)
    WHERE state <> 'VOIDED';
-- The holds a reorganisation may still void.
CREATE INDEX indexer_custody_holds_open ON indexer_custody_holds (stream, block_number)
    WHERE state IN ('PENDING', 'REJECTED');
