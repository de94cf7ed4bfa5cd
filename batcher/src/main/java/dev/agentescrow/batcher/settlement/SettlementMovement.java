package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.merkle.TransferLeaf;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.util.Objects;

/**
 * A committed off-chain movement waiting for on-chain settlement: a {@link Transfer} between two
 * accounts, netted into the batch's deltas, or a {@link Withdrawal} that leaves the vault as a
 * payout. Both become one leaf of the batch's Merkle tree ({@link #leaf()}).
 *
 * <p>Amounts are in [1, 2^128 - 1] base units (the vault's packed entry width), so that any single
 * movement fits an empty batch; no address is the zero address.
 */
public sealed interface SettlementMovement permits SettlementMovement.Transfer, SettlementMovement.Withdrawal {

    /** The movement's id, unique across the ledger; the leaf's {@code transferId}. */
    TransferId transferId();

    Address token();

    Amount amount();

    /** The Merkle leaf (transferId, token, from, to, amount) of this movement. */
    TransferLeaf leaf();

    /** {@code amount} of {@code token} from one account's settled balance to another's. */
    record Transfer(TransferId transferId, Address token, Address from, Address to, Amount amount)
            implements SettlementMovement {
        public Transfer {
            Objects.requireNonNull(transferId, "transferId");
            requireAddress(token, "token");
            requireAddress(from, "from");
            requireAddress(to, "to");
            requireEntryAmount(amount);
            if (from.equals(to)) {
                throw new IllegalArgumentException("transfer " + transferId + " moves money from " + from + " to itself");
            }
        }

        @Override
        public TransferLeaf leaf() {
            return new TransferLeaf(transferId, token, from, to, amount);
        }
    }

    /**
     * {@code amount} of {@code token} out of {@code account}'s settled balance, paid to
     * {@code recipient} (which may be the account itself). Its leaf has {@code from = account},
     * {@code to = recipient}.
     */
    record Withdrawal(TransferId transferId, Address token, Address account, Address recipient, Amount amount)
            implements SettlementMovement {
        public Withdrawal {
            Objects.requireNonNull(transferId, "transferId");
            requireAddress(token, "token");
            requireAddress(account, "account");
            requireAddress(recipient, "recipient");
            requireEntryAmount(amount);
        }

        @Override
        public TransferLeaf leaf() {
            return new TransferLeaf(transferId, token, account, recipient, amount);
        }
    }

    private static void requireAddress(Address address, String name) {
        Objects.requireNonNull(address, name);
        if (address.equals(Address.ZERO)) {
            throw new IllegalArgumentException(name + " must not be the zero address");
        }
    }

    private static void requireEntryAmount(Amount amount) {
        Objects.requireNonNull(amount, "amount");
        if (amount.isZero() || amount.baseUnits().compareTo(SettlementBatch.MAX_ENTRY_AMOUNT) > 0) {
            throw new IllegalArgumentException("movement amount must be in [1, 2^128 - 1]: " + amount);
        }
    }
}
