package dev.agentescrow.batcher.settlement.db;

import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.support.Addresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.UUID;

/**
 * The one rule that says what a committed ledger transfer is for settlement: a movement on chain
 * (a transfer between two settled balances, or a withdrawal paid out of the vault), no movement at
 * all (holds and their cancellations, anything with CUSTODY, an account to itself), or a row that
 * cannot be mapped (quarantined for a person to resolve). Nothing else in the code base, Java or
 * SQL, decides this. See docs/settlement.md ("PostgreSQL store").
 */
public final class TransferMapping {
    /**
     * The columns {@link #map(ResultSet)} reads, in order, from {@code transfers t} joined to its
     * debit account {@code d} and credit account {@code c}.
     */
    public static final String COLUMNS = "t.id, t.seq, t.kind, t.token, t.amount, d.kind, d.owner, c.kind, c.owner";

    private final SettlementAddresses addresses;

    public TransferMapping(SettlementAddresses addresses) {
        this.addresses = Objects.requireNonNull(addresses, "addresses");
    }

    /** What a transfer is for settlement. */
    public sealed interface Mapping permits Mapped, NoMovement, Unmappable {
    }

    /** The transfer moves money on chain as {@code movement}. */
    public record Mapped(SettlementMovement movement) implements Mapping {
    }

    /** The transfer has no on-chain movement: settlement passes it by for good. */
    public record NoMovement() implements Mapping {
    }

    /** The transfer cannot become a movement: settlement quarantines it with {@code reason}. */
    public record Unmappable(String reason) implements Mapping {
    }

    /** The movement id of ledger transfer {@code transferId}: the transfer's own id. */
    public static TransferId movementId(UUID transferId) {
        return TransferId.of(transferId);
    }

    /** The ledger transfer (its {@code transfers.id}) of movement {@code id}. */
    public static UUID transferUuid(TransferId id) {
        return id.toUuid();
    }

    /**
     * The ledger transfer id of the payout of a withdrawal: a reserved id holding the withdrawal
     * transfer's sequence number (F1: no client can take it, and two withdrawals never share one).
     * A withdrawal settles in one batch only, so its payout is booked once, whichever batch pays it.
     */
    public static TransferId payoutTransferId(long withdrawalSeq) {
        return TransferId.reserved(TransferId.Domain.PAYOUT, withdrawalSeq);
    }

    /**
     * Maps the current row of {@code rs} (columns {@link #COLUMNS}); never throws for the row's
     * content (F4): anything that cannot become a movement (a zero address, an unknown kind, a
     * malformed value) is {@link Unmappable}, quarantined and counted instead of failing every tick.
     */
    public Mapping map(ResultSet rs) throws SQLException {
        try {
            return mapRow(rs);
        } catch (SQLException e) {
            throw e;
        } catch (RuntimeException e) {
            return new Unmappable("cannot be mapped to a movement: " + e.getMessage());
        }
    }

    private Mapping mapRow(ResultSet rs) throws SQLException {
        String kind = rs.getString(3);
        AccountKind debit = AccountKind.valueOf(rs.getString(6));
        AccountKind credit = AccountKind.valueOf(rs.getString(8));
        if (!kind.equals("SINGLE") && !kind.equals("POST")
                || debit == AccountKind.CUSTODY || credit == AccountKind.CUSTODY) {
            return new NoMovement();
        }
        if (debit == AccountKind.PAYOUTS) {
            return new Unmappable("a transfer out of PAYOUTS to " + credit + " has no on-chain movement");
        }
        BigInteger amount = rs.getBigDecimal(5).toBigIntegerExact();
        if (amount.compareTo(SettlementBatch.MAX_ENTRY_AMOUNT) > 0) {
            return new Unmappable("amount " + amount + " exceeds the vault's entry width 2^128 - 1");
        }
        TransferId id = movementId(rs.getObject(1, UUID.class));
        Address token = Addresses.of(rs.getString(4));
        Address from = onChain(debit, rs.getString(7));
        if (credit == AccountKind.PAYOUTS) {
            if (Address.ZERO.equals(from) || Address.ZERO.equals(token)) {
                return new Unmappable("the zero address cannot withdraw");
            }
            return new Mapped(new SettlementMovement.Withdrawal(id, token, from, from, Amount.of(amount)));
        }
        Address to = onChain(credit, rs.getString(9));
        if (Address.ZERO.equals(from) || Address.ZERO.equals(to) || Address.ZERO.equals(token)) {
            return new Unmappable("the zero address cannot hold a settled balance");
        }
        if (from.equals(to)) {
            return new NoMovement();
        }
        return new Mapped(new SettlementMovement.Transfer(id, token, from, to, Amount.of(amount)));
    }

    private Address onChain(AccountKind kind, String owner) {
        return switch (kind) {
            case USER -> Addresses.of(owner);
            case FEES, PROTOCOL_FEES -> addresses.feeCollector();
            case ESCROW, ESCROW_FUNDS -> addresses.escrowHolder();
            case CUSTODY, PAYOUTS -> throw new IllegalArgumentException(kind + " has no on-chain address");
        };
    }
}
