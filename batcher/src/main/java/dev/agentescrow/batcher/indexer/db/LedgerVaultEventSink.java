package dev.agentescrow.batcher.indexer.db;

import dev.agentescrow.batcher.indexer.VaultEventSink;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.vault.EscapeWithdrawal;
import dev.agentescrow.chain.vault.VaultDeposit;
import java.math.BigInteger;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * Books the vault's confirmed custody events in the ledger: a deposit as the transfer
 * CUSTODY -> USER(account, token), an escape withdrawal as USER(account, token) -> CUSTODY. The
 * transfer id is derived from the event's position, {@link #transferId}, so that a replay of the
 * same event is the ledger's idempotent {@code EXISTS} and nothing is booked twice.
 *
 * <p>An escape takes the account's whole settled balance on chain. The ledger can book it when
 * the account still holds that much off-chain; when it holds less (it spent or withdrew amounts
 * that no batch settled before the hatch opened), the debit is refused, logged as an error and
 * left to the reconciler, which reports the difference. Nothing is debited in part.
 */
public final class LedgerVaultEventSink implements VaultEventSink {
    private static final Logger log = LoggerFactory.getLogger(LedgerVaultEventSink.class);

    private final Ledger ledger;

    public LedgerVaultEventSink(Ledger ledger) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /**
     * A deposit's transfer id: reserved (F1: no client can book under it before the deposit is
     * mined, nor after, when the log is public), with 88 bits of keccak256(txHash || uint256 logIndex).
     */
    public static TransferId transferId(LogPosition position) {
        return TransferId.reserved(TransferId.Domain.DEPOSIT, positionHash(position));
    }

    /** An escape withdrawal's transfer id: like a deposit's, in its own domain. */
    public static TransferId escapeTransferId(LogPosition position) {
        return TransferId.reserved(TransferId.Domain.ESCAPE, positionHash(position));
    }

    private static byte[] positionHash(LogPosition position) {
        byte[] input = new byte[64];
        byte[] hash = Numeric.hexStringToByteArray(position.txHash().value());
        System.arraycopy(hash, 0, input, 32 - hash.length, hash.length);
        byte[] index = Numeric.toBytesPadded(BigInteger.valueOf(position.logIndex()), 32);
        System.arraycopy(index, 0, input, 32, 32);
        return Hash.sha3(input);
    }

    /** A deposit transfer's reference: {@code deposit:<txHash>:<logIndex>}. */
    public static String reference(LogPosition position) {
        return "deposit:" + position.txHash().value() + ":" + position.logIndex();
    }

    /** An escape transfer's reference: {@code escape:<txHash>:<logIndex>}. */
    public static String escapeReference(LogPosition position) {
        return "escape:" + position.txHash().value() + ":" + position.logIndex();
    }

    @Override
    public Outcome credit(VaultDeposit deposit) {
        String reference = reference(deposit.position());
        return book(TransferRequest.single(transferId(deposit.position()), AccountKey.custody(deposit.token()),
                        AccountKey.user(deposit.account(), deposit.token()), deposit.amount()).withReference(reference),
                Outcome.CREDITED, () -> "deposit " + reference + " of " + deposit.amount() + " " + deposit.token()
                        + " by " + deposit.account() + " not credited");
    }

    @Override
    public Outcome debit(EscapeWithdrawal escape) {
        String reference = escapeReference(escape.position());
        return book(TransferRequest.single(escapeTransferId(escape.position()),
                        AccountKey.user(escape.account(), escape.token()), AccountKey.custody(escape.token()),
                        escape.amount()).withReference(reference),
                Outcome.DEBITED, () -> "escape withdrawal " + reference + " of " + escape.amount() + " "
                        + escape.token() + " by " + escape.account() + " not debited; the reconciler reports the "
                        + "difference until it is resolved by hand");
    }

    private Outcome book(TransferRequest request, Outcome booked, Supplier<String> refusal) {
        TransferResult result = ledger.submitSystem(List.of(request)).getFirst();
        return switch (result) {
            case OK -> booked;
            case EXISTS -> Outcome.ALREADY_BOOKED;
            default -> {
                log.error("{}: {}", refusal.get(), result);
                yield Outcome.REJECTED;
            }
        };
    }
}
