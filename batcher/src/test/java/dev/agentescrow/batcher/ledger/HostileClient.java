package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.forced.ForcedWithdrawalIds;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Random;

/**
 * A hostile client of the string entry point ({@link Ledger#submitInputs}, the one the REST service
 * uses), for the seeded random workloads (issue 10): a catalogue of inputs, each refused with one
 * exact result whatever the ledger's state. Ids the system derives (an expiry's, a payout's, a
 * deposit hold's and its post's, a forced withdrawal's) as the id or the pending id, control
 * characters and an unpaired surrogate in references, the zero address as payer, payee or token,
 * amounts beyond uint256 and beyond the token's limit (the vault's cap), debits of every system
 * account and credits to CUSTODY, a negative amount, a kind only the ledger writes.
 */
public final class HostileClient {
    /** A hostile input and the exact result it must get. */
    public record Input(TransferInput input, TransferResult refusal) {
    }

    private HostileClient() {
    }

    /**
     * The next hostile input between the users {@code a} and {@code b} (accounts of one registered
     * token, whose limit is the vault's cap), with {@code fresh} as its id where the id is not the point.
     */
    public static Input next(Random random, AccountKey a, AccountKey b, TransferId fresh) {
        String token = a.token().hex();
        String zero = Address.ZERO.hex();
        TransferId derived = switch (random.nextInt(5)) {
            case 0 -> Group.expireId(1 + random.nextInt(5_000));
            case 1 -> PostgresSettlementStore.payoutTransferId(1 + random.nextInt(5_000));
            case 2 -> LedgerVaultEventSink.holdId(CustodyEvent.Kind.DEPOSIT,
                    new TxHash(String.format("0x%064x", random.nextInt(1_000))), random.nextInt(3), random.nextInt(2));
            case 3 -> LedgerVaultEventSink.postId(TransferId.reserved(TransferId.Domain.DEPOSIT, random.nextInt(1_000)));
            default -> ForcedWithdrawalIds.transferId(a.token(), a.owner(), Amount.of(1 + random.nextInt(1_000)),
                    Instant.ofEpochSecond(1_800_000_000L + random.nextInt(1_000)));
        };
        String id = fresh.hex();
        String payer = a.owner().hex();
        String payee = b.owner().equals(a.owner()) ? AccountKind.FEES.name() : b.owner().hex();
        String one = "1";
        return switch (random.nextInt(14)) {
            case 0 -> new Input(TransferInput.single(derived.hex(), payer, payee, token, one), TransferResult.RESERVED_ID);
            case 1 -> new Input(new TransferInput(id, "VOID", null, null, null, null, derived.hex(), null, null, false),
                    TransferResult.RESERVED_ID);
            case 2 -> new Input(new TransferInput(id, "POST", null, null, null, one, derived.hex(), null, null, false),
                    TransferResult.RESERVED_ID);
            case 3 -> new Input(new TransferInput(id, "SINGLE", payer, payee, token, one, null, null,
                    pick(random, List.of("\u0000", "a\nb", "\u001b[2J", "\u0085", "x\uD800")), false),
                    TransferResult.INVALID_REFERENCE);
            case 4 -> new Input(TransferInput.single(id, payer, zero, token, one), TransferResult.INVALID_ADDRESS);
            case 5 -> new Input(TransferInput.single(id, zero, payee, token, one), TransferResult.INVALID_ADDRESS);
            case 6 -> new Input(TransferInput.single(id, payer, payee, zero, one), TransferResult.INVALID_ADDRESS);
            case 7 -> new Input(TransferInput.single(id, payer, payee, token,
                    Amount.MAX_UINT256.add(BigInteger.valueOf(1 + random.nextInt(1_000))).toString()),
                    TransferResult.AMOUNT_EXCEEDS_UINT256);
            case 8 -> new Input(TransferInput.single(id, payer, payee, token,
                    LedgerModel.CAP.add(BigInteger.valueOf(1 + random.nextInt(1_000))).toString()),
                    TransferResult.AMOUNT_EXCEEDS_LIMIT);
            case 9 -> new Input(TransferInput.single(id, pick(random, List.of("CUSTODY", "FEES", "ESCROW", "PAYOUTS",
                    "custody", "Fees")), payee.equals(AccountKind.FEES.name()) ? payer : payee, token, one),
                    TransferResult.SYSTEM_ACCOUNT);
            case 10 -> new Input(TransferInput.single(id, payer, "CUSTODY", token, one), TransferResult.SYSTEM_ACCOUNT);
            case 11 -> new Input(new TransferInput(id, "PENDING", "ESCROW", payer, token, one, null, "10", null, false),
                    TransferResult.SYSTEM_ACCOUNT);
            case 12 -> new Input(TransferInput.single(id, payer, payee, token, "-1"), TransferResult.INVALID_AMOUNT);
            default -> new Input(new TransferInput(id, "EXPIRE", payer, payee, token, one, null, null, null, false),
                    TransferResult.INVALID_KIND);
        };
    }

    private static <T> T pick(Random random, List<T> values) {
        return values.get(random.nextInt(values.size()));
    }
}
