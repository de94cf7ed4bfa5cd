-- Proof receipts are kept for agentescrow.channels.proof-receipt-retention (a day by default), then
-- deleted oldest first (ProofReceiptRetention): before, every accepted proof kept its row for as long
-- as its channel, so a busy channel's receipts grew with every payment it carried. The retention
-- finds the oldest by this index; the newest proof of each direction stays in channel_proofs, which
-- answers its replay without a receipt.
CREATE INDEX channel_proof_receipts_stored_at ON channel_proof_receipts (stored_at);
