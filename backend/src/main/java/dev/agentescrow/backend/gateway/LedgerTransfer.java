package dev.agentescrow.backend.gateway;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;

/** A committed ledger transfer as the service shows it. */
public record LedgerTransfer(TransferId id, long sequence, TransferKind kind, AccountKey debit, AccountKey credit,
                             Address token, BigInteger amount, String reference, Instant committedAt) {

    /** Whether {@code owner}'s user account is the payer or the payee. */
    public boolean involves(Address owner) {
        return owner.equals(debit.owner()) || owner.equals(credit.owner());
    }
}
