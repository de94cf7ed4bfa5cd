-- Off-chain double-entry ledger (see docs/ledger.md).
-- Amounts are token base units. Transfer amounts are uint256 (NUMERIC(78,0), 0 < amount < 2^256);
-- account totals are cumulative sums of such amounts (NUMERIC; the writer only ever writes integers).

CREATE TABLE tokens (
    address       CHAR(42)    PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    symbol        VARCHAR(32) NOT NULL,
    decimals      SMALLINT    NOT NULL CHECK (decimals BETWEEN 0 AND 77),
    registered_at TIMESTAMPTZ NOT NULL
);

-- kind: USER (owner set) or a system account (CUSTODY, FEES, ESCROW, PAYOUTS; owner NULL).
-- Balances TigerBeetle style: credits - debits is what the account holds; pending debits are
-- held (reserved) and not spendable, pending credits are not yet spendable.
CREATE TABLE accounts (
    id               BIGINT      PRIMARY KEY,
    kind             VARCHAR(16) NOT NULL CHECK (kind IN ('USER', 'CUSTODY', 'FEES', 'ESCROW', 'PAYOUTS')),
    owner            CHAR(42)    CHECK (owner ~ '^0x[0-9a-f]{40}$'),
    token            CHAR(42)    NOT NULL REFERENCES tokens (address),
    may_go_negative  BOOLEAN     NOT NULL,
    debits_posted    NUMERIC     NOT NULL DEFAULT 0 CHECK (debits_posted >= 0),
    credits_posted   NUMERIC     NOT NULL DEFAULT 0 CHECK (credits_posted >= 0),
    debits_pending   NUMERIC     NOT NULL DEFAULT 0 CHECK (debits_pending >= 0),
    credits_pending  NUMERIC     NOT NULL DEFAULT 0 CHECK (credits_pending >= 0),
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'USER') = (owner IS NOT NULL)),
    CHECK (may_go_negative = (kind = 'CUSTODY')),
    -- Defence in depth: the writer never lets this happen, the database refuses it as well.
    CONSTRAINT accounts_not_negative
        CHECK (may_go_negative OR credits_posted - debits_posted - debits_pending >= 0)
) WITH (fillfactor = 50); -- room for HOT updates: every group commit rewrites the touched balances
CREATE UNIQUE INDEX accounts_user_key ON accounts (owner, token) WHERE kind = 'USER';
CREATE UNIQUE INDEX accounts_system_key ON accounts (kind, token) WHERE kind <> 'USER';

-- Immutable transfers; the id is the client's 128-bit idempotency key. seq is the commit order
-- assigned by the single writer. batch_id is assigned by settlement (NULL = not yet in a batch).
-- The account, token and pending references are checked by the writer before insert (it owns
-- them in memory); foreign-key triggers would roughly double the cost of every insert.
CREATE TABLE transfers (
    id                UUID          PRIMARY KEY,
    seq               BIGINT        NOT NULL UNIQUE,
    kind              VARCHAR(8)    NOT NULL CHECK (kind IN ('SINGLE', 'PENDING', 'POST', 'VOID', 'EXPIRE')),
    debit_account_id  BIGINT        NOT NULL,
    credit_account_id BIGINT        NOT NULL,
    token             CHAR(42)      NOT NULL,
    amount            NUMERIC(78,0) NOT NULL
        CHECK (amount > 0 AND amount <= 115792089237316195423570985008687907853269984665640564039457584007913129639935),
    pending_id        UUID,
    timeout_seconds   INTEGER       CHECK (timeout_seconds > 0),
    expires_at        TIMESTAMPTZ,
    link_group        UUID,
    reference         VARCHAR(128),
    created_at        TIMESTAMPTZ   NOT NULL,
    batch_id          BIGINT,
    CHECK (debit_account_id <> credit_account_id),
    CHECK ((kind IN ('POST', 'VOID', 'EXPIRE')) = (pending_id IS NOT NULL)),
    CHECK ((kind = 'PENDING') = (timeout_seconds IS NOT NULL AND expires_at IS NOT NULL))
);
-- A pending transfer is resolved (posted, voided or expired) at most once.
CREATE UNIQUE INDEX transfers_resolution ON transfers (pending_id) WHERE pending_id IS NOT NULL;
-- Committed transfers that settlement has not yet put into a batch, in commit order. (Every
-- index costs each insert, so the hot table has just these three; per-account history indexes
-- can be added when a query needs them.)
CREATE INDEX transfers_unbatched ON transfers (seq) WHERE batch_id IS NULL;

-- Account totals in `accounts` include exactly the transfers with seq <= ledger_checkpoint.seq.
-- The writer rewrites the totals of the accounts touched since the last checkpoint every few
-- groups, in the same transaction as a group, instead of in every group: the transfers are the
-- durable log, the totals a snapshot of it.
CREATE TABLE ledger_checkpoint (
    singleton  BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    seq        BIGINT      NOT NULL CHECK (seq >= 0),
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO ledger_checkpoint (seq, updated_at) VALUES (0, TIMESTAMPTZ '1970-01-01 00:00:00Z');

-- The exact committed totals of every account: the checkpointed totals plus the effect of every
-- transfer after the checkpoint. Read balances here, never from `accounts` directly.
-- after_checkpoint is true when transfers after the checkpoint touched the account.
CREATE VIEW account_balances AS
WITH recent AS (
    SELECT t.kind, t.debit_account_id, t.credit_account_id, t.amount, p.amount AS pending_amount
    FROM transfers t
    LEFT JOIN transfers p ON p.id = t.pending_id
    WHERE t.seq > (SELECT seq FROM ledger_checkpoint)
), effects AS (
    SELECT debit_account_id AS account_id,
           CASE WHEN kind IN ('SINGLE', 'POST') THEN amount ELSE 0 END AS dp,
           0::NUMERIC AS cp,
           CASE kind WHEN 'PENDING' THEN amount WHEN 'SINGLE' THEN 0 ELSE -pending_amount END AS dpe,
           0::NUMERIC AS cpe
    FROM recent
    UNION ALL
    SELECT credit_account_id,
           0::NUMERIC,
           CASE WHEN kind IN ('SINGLE', 'POST') THEN amount ELSE 0 END,
           0::NUMERIC,
           CASE kind WHEN 'PENDING' THEN amount WHEN 'SINGLE' THEN 0 ELSE -pending_amount END
    FROM recent
), delta AS (
    SELECT account_id, sum(dp) AS dp, sum(cp) AS cp, sum(dpe) AS dpe, sum(cpe) AS cpe
    FROM effects GROUP BY account_id
)
SELECT a.id, a.kind, a.owner, a.token,
       a.debits_posted + coalesce(d.dp, 0) AS debits_posted,
       a.credits_posted + coalesce(d.cp, 0) AS credits_posted,
       a.debits_pending + coalesce(d.dpe, 0) AS debits_pending,
       a.credits_pending + coalesce(d.cpe, 0) AS credits_pending,
       a.created_at,
       d.account_id IS NOT NULL AS after_checkpoint
FROM accounts a
LEFT JOIN delta d ON d.account_id = a.id;

-- Non-transfer state changes (token registration, account creation): who, what, when, why.
CREATE TABLE audit_log (
    id          BIGSERIAL    PRIMARY KEY,
    occurred_at TIMESTAMPTZ  NOT NULL,
    actor       VARCHAR(64)  NOT NULL,
    action      VARCHAR(32)  NOT NULL,
    subject     VARCHAR(128) NOT NULL,
    reason      VARCHAR(256) NOT NULL
);
