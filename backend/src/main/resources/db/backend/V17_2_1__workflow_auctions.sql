-- Workflow steps allocated by the marketplace's auction (issue 16): a step that names no agent
-- holds its budget up front, takes sealed bids until its bidding window closes, and is then
-- allocated by the reverse Vickrey rule (market/ReverseVickreyAuction); its agent and price are
-- fixed and the budget above its cost goes back to the payer (transfer kind SURPLUS).

ALTER TABLE workflow_steps ALTER COLUMN agent DROP NOT NULL;
ALTER TABLE workflow_steps
    -- the most the step pays, held up front; null for a step with a named agent
    ADD COLUMN budget            NUMERIC(78,0) CHECK (budget > 0),
    -- the highest base price a bid may ask (the budget, or under performance pay budget / multiplier)
    ADD COLUMN max_base_price    NUMERIC(78,0) CHECK (max_base_price > 0),
    ADD COLUMN bidding_closes_at TIMESTAMPTZ,
    -- when the auction closed (allocated, or without a bid), the bids it had, the clearing base price
    ADD COLUMN auction_closed_at TIMESTAMPTZ,
    ADD COLUMN bids              INTEGER       CHECK (bids >= 0),
    ADD COLUMN price             NUMERIC(78,0) CHECK (price > 0),
    ADD COLUMN reserve_applied   BOOLEAN,
    -- the budget above the step's cost refunded after the allocation; null until refunded
    ADD COLUMN surplus           NUMERIC(78,0) CHECK (surplus >= 0),
    ADD CONSTRAINT workflow_steps_auction CHECK (
        (budget IS NULL) = (bidding_closes_at IS NULL)
        AND (budget IS NULL) = (max_base_price IS NULL)
        AND (budget IS NOT NULL OR agent IS NOT NULL)
        AND (price IS NULL OR (agent IS NOT NULL AND auction_closed_at IS NOT NULL AND price <= max_base_price))
        AND (auction_closed_at IS NULL OR budget IS NOT NULL)
        AND (surplus IS NULL OR price IS NOT NULL)
        AND (state <> 'RUNNING' OR agent IS NOT NULL));

ALTER TABLE workflow_transfers DROP CONSTRAINT workflow_transfers_kind_check;
ALTER TABLE workflow_transfers ADD CONSTRAINT workflow_transfers_kind_check
    CHECK (kind IN ('FUND', 'AGENT', 'FEE', 'PROTOCOL_FEE', 'PAYER', 'SURPLUS'));

-- The sealed bids on an auctioned step: one per bidder, in the order stored (the tie rule).
CREATE TABLE workflow_bids (
    workflow_id  VARCHAR(64)   NOT NULL,
    idx          INTEGER       NOT NULL,
    bidder       CHAR(42)      NOT NULL CHECK (bidder ~ '^0x[0-9a-f]{40}$'),
    sequence     BIGSERIAL     NOT NULL UNIQUE,
    ask          NUMERIC(78,0) NOT NULL CHECK (ask > 0),
    created_at   TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (workflow_id, idx, bidder),
    FOREIGN KEY (workflow_id, idx) REFERENCES workflow_steps (workflow_id, idx)
);
CREATE INDEX workflow_bids_bidder ON workflow_bids (bidder);
