-- Every balance proof the service accepted, by its signer and EIP-712 digest (the digest names
-- no signer: both directions may sign the same nonce and total): a proof stored and then
-- overtaken by a newer one (in the same group commit or later) still answers a replay with what was
-- stored (200, replayed) instead of "stale". channel_proofs keeps only the newest per signer.
CREATE TABLE channel_proof_receipts (
    channel_id  CHAR(66)      NOT NULL,
    digest      CHAR(66)      NOT NULL,
    signer      CHAR(42)      NOT NULL,
    nonce       NUMERIC(78,0) NOT NULL CHECK (nonce > 0),
    transferred NUMERIC(78,0) NOT NULL CHECK (transferred >= 0),
    signature   CHAR(132)     NOT NULL,
    stored_by   CHAR(42)      NOT NULL,
    stored_at   TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (channel_id, signer, digest)
);
