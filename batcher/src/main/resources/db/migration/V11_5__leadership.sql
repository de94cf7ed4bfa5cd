-- Issue 11 (standby takeover): the one row that says who may write. The process holding the
-- ledger writer's advisory lock increments the epoch when it takes over; every ledger group commit
-- and every settlement state change checks, in its own transaction, that the epoch is still the one
-- it took over with (SELECT ... FOR KEY SHARE), and the takeover locks the row FOR UPDATE before it
-- increments, so a deposed leader's write either committed before the takeover or is refused.
-- leader_address is where the service forwards writes; heartbeat_at is for display only (it is the
-- database's clock, never used to decide anything).
CREATE TABLE leadership (
    id             SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    epoch          BIGINT NOT NULL CHECK (epoch >= 0),
    leader_id      TEXT,
    leader_address TEXT,
    elected_at     TIMESTAMPTZ,
    heartbeat_at   TIMESTAMPTZ
);
INSERT INTO leadership (id, epoch) VALUES (1, 0);
