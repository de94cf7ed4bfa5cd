-- Issue 11: reads on any instance, escrow accounts, service audit (see docs/ledger.md "Reads").

-- 1. Escrow accounts: the funds of one escrow in one token live in their own account (kind
--    ESCROW_FUNDS, no owner, named by escrow_id), so that partial releases, a refund of the rest
--    and a split are ordinary transfers and the balance check enforces the escrow's limit.
ALTER TABLE accounts ADD COLUMN escrow_id VARCHAR(64) CHECK (escrow_id ~ '^[A-Za-z0-9:_.-]{1,64}$');
ALTER TABLE accounts DROP CONSTRAINT accounts_kind_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_kind_check
    CHECK (kind IN ('USER', 'CUSTODY', 'FEES', 'ESCROW', 'PAYOUTS', 'ESCROW_FUNDS'));
ALTER TABLE accounts ADD CONSTRAINT accounts_escrow_id_iff_escrow_funds
    CHECK ((kind = 'ESCROW_FUNDS') = (escrow_id IS NOT NULL));
DROP INDEX accounts_system_key;
CREATE UNIQUE INDEX accounts_system_key ON accounts (kind, token) WHERE kind NOT IN ('USER', 'ESCROW_FUNDS');
CREATE UNIQUE INDEX accounts_escrow_key ON accounts (escrow_id, token) WHERE kind = 'ESCROW_FUNDS';

-- The view keeps its columns and adds escrow_id last (the writer loads accounts through it).
CREATE OR REPLACE VIEW account_balances AS
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
       d.account_id IS NOT NULL AS after_checkpoint,
       a.escrow_id
FROM accounts a
LEFT JOIN delta d ON d.account_id = a.id;

-- 2. History: an account's transfers newest first, keyset on seq (the cursor).
CREATE INDEX transfers_debit_history ON transfers (debit_account_id, seq);
CREATE INDEX transfers_credit_history ON transfers (credit_account_id, seq);

-- 3. Pending withdrawals per user: written by the writer in the group that books the withdrawal
--    (a USER -> PAYOUTS transfer); the group that books its payout (the PAYOUTS -> CUSTODY transfer
--    whose reserved id holds the withdrawal's seq) sets paid_seq, and the next account checkpoint
--    deletes it. A read at checkpoint C takes seq <= C and (paid_seq IS NULL OR paid_seq > C): the
--    withdrawals pending at C exactly, from one index range over the user's own rows.
CREATE TABLE pending_withdrawals (
    seq         BIGINT        PRIMARY KEY,
    paid_seq    BIGINT,
    transfer_id UUID          NOT NULL UNIQUE,
    account_id  BIGINT        NOT NULL,
    token       CHAR(42)      NOT NULL,
    amount      NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    created_at  TIMESTAMPTZ   NOT NULL
);
CREATE INDEX pending_withdrawals_account ON pending_withdrawals (account_id, seq);
CREATE INDEX pending_withdrawals_paid ON pending_withdrawals (paid_seq) WHERE paid_seq IS NOT NULL;
INSERT INTO pending_withdrawals (seq, transfer_id, account_id, token, amount, created_at)
SELECT t.seq, t.id, t.debit_account_id, t.token, t.amount, t.created_at
FROM transfers t
JOIN accounts d ON d.id = t.debit_account_id AND d.kind = 'USER'
JOIN accounts c ON c.id = t.credit_account_id AND c.kind = 'PAYOUTS'
WHERE t.kind IN ('SINGLE', 'POST')
  AND NOT EXISTS (SELECT 1 FROM transfers p WHERE p.id = ('ffffffff-0400-0000-'
        || substr(lpad(to_hex(t.seq), 16, '0'), 1, 4) || '-' || substr(lpad(to_hex(t.seq), 16, '0'), 5))::uuid);

-- 3b. Open holds per account: written by the writer in the group that books the hold; the group
--     that posts, voids or expires it sets resolved_seq, and the next account checkpoint deletes it
--     (a read at checkpoint C sees the holds open at C, like pending_withdrawals).
CREATE TABLE open_holds (
    pending_id        UUID          PRIMARY KEY,
    resolved_seq      BIGINT,
    seq               BIGINT        NOT NULL UNIQUE,
    debit_account_id  BIGINT        NOT NULL,
    credit_account_id BIGINT        NOT NULL,
    token             CHAR(42)      NOT NULL,
    amount            NUMERIC(78,0) NOT NULL CHECK (amount > 0),
    expires_at        TIMESTAMPTZ   NOT NULL,
    created_at        TIMESTAMPTZ   NOT NULL
);
CREATE INDEX open_holds_debit ON open_holds (debit_account_id, seq);
CREATE INDEX open_holds_credit ON open_holds (credit_account_id, seq);
CREATE INDEX open_holds_resolved ON open_holds (resolved_seq) WHERE resolved_seq IS NOT NULL;
INSERT INTO open_holds (pending_id, seq, debit_account_id, credit_account_id, token, amount, expires_at, created_at)
SELECT p.id, p.seq, p.debit_account_id, p.credit_account_id, p.token, p.amount, p.expires_at, p.created_at
FROM transfers p
WHERE p.kind = 'PENDING' AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = p.id);

-- Batches newest first (keyset on batch_id).
CREATE INDEX settlement_batches_by_id ON settlement_batches (batch_id, row_id);

-- 4. The service's running totals per token, for metrics: one row per (token, category), moved by
--    the writer in the same transaction as the transfers they count (relative increments).
--    DEPOSIT: CUSTODY -> USER; WITHDRAWAL: USER -> PAYOUTS; PAYOUT: PAYOUTS -> CUSTODY (a settled withdrawal).
CREATE TABLE ledger_totals (
    token    CHAR(42)    NOT NULL,
    category VARCHAR(16) NOT NULL CHECK (category IN ('DEPOSIT', 'WITHDRAWAL', 'PAYOUT')),
    count    BIGINT      NOT NULL CHECK (count >= 0),
    amount   NUMERIC     NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (token, category)
);
INSERT INTO ledger_totals (token, category, count, amount)
SELECT t.token, x.category, count(*), sum(t.amount)
FROM transfers t
JOIN accounts d ON d.id = t.debit_account_id
JOIN accounts c ON c.id = t.credit_account_id
CROSS JOIN LATERAL (SELECT CASE
        WHEN d.kind = 'CUSTODY' AND c.kind = 'USER' THEN 'DEPOSIT'
        WHEN d.kind = 'USER' AND c.kind = 'PAYOUTS' THEN 'WITHDRAWAL'
        WHEN d.kind = 'PAYOUTS' AND c.kind = 'CUSTODY' THEN 'PAYOUT' END AS category) x
WHERE t.kind IN ('SINGLE', 'POST') AND x.category IS NOT NULL
GROUP BY t.token, x.category;

-- 5. Service audit: a rule-driven movement (ServiceCommands) writes its audit row in the same
--    transaction as the transfer; the unique index makes a doubled row impossible.
ALTER TABLE audit_log ADD COLUMN transfer_id UUID;
ALTER TABLE audit_log ADD COLUMN token CHAR(42);
ALTER TABLE audit_log ADD COLUMN amount NUMERIC(78,0) CHECK (amount > 0);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_movement_complete
    CHECK ((transfer_id IS NULL) = (amount IS NULL) AND (transfer_id IS NULL) = (token IS NULL));
CREATE UNIQUE INDEX audit_log_transfer ON audit_log (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX audit_log_subject ON audit_log (subject, id);
