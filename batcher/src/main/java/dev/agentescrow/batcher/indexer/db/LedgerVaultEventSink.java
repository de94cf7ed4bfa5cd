package dev.agentescrow.batcher.indexer.db;

import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.indexer.VaultEventSink;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * Books the vault's custody events in the ledger in two phases: a deposit's hold is the pending
 * transfer CUSTODY -> USER(account, token) (the user's incoming, not spendable), an escape's is
 * USER(account, token) -> CUSTODY (the account's funds frozen at once); the indexer posts it at the
 * confirmation depth or voids it when its block leaves the chain. Every id is reserved and derived
 * ({@link #holdId}, {@link #postId}, {@link #voidId}), so a repeat is the ledger's idempotent
 * {@code EXISTS} and no client can take or resolve one (F1: a hold's pending id is reserved too).
 *
 * <p>A hold's timeout is {@link TransferRequest#MAX_SYSTEM_TIMEOUT_SECONDS} (about 68 years): it
 * never expires before the indexer resolves it. An escape takes the account's whole settled balance
 * on chain; when the ledger holds less for the account (it spent or withdrew amounts that no batch
 * settled before the hatch opened), the hold is refused, logged as an error and left to the
 * reconciler, which reports the difference. Nothing is debited in part.
 */
public final class LedgerVaultEventSink implements VaultEventSink {
    private static final Logger log = LoggerFactory.getLogger(LedgerVaultEventSink.class);

    private final Ledger ledger;

    public LedgerVaultEventSink(Ledger ledger) {
        this.ledger = Objects.requireNonNull(ledger, "ledger");
    }

    /**
     * The hold id of one booking of a custody event: reserved (DEPOSIT or ESCAPE domain), with 88 bits
     * of keccak256(txHash || uint256 ordinal || uint256 incarnation). The same event mined in another
     * block after its first hold was voided is the next incarnation, so it gets a fresh id.
     */
    public static TransferId holdId(CustodyEvent.Kind kind, TxHash txHash, int ordinal, int incarnation) {
        byte[] input = new byte[96];
        byte[] hash = Numeric.hexStringToByteArray(txHash.value());
        System.arraycopy(hash, 0, input, 32 - hash.length, hash.length);
        System.arraycopy(Numeric.toBytesPadded(BigInteger.valueOf(ordinal), 32), 0, input, 32, 32);
        System.arraycopy(Numeric.toBytesPadded(BigInteger.valueOf(incarnation), 32), 0, input, 64, 32);
        return TransferId.reserved(kind == CustodyEvent.Kind.DEPOSIT ? TransferId.Domain.DEPOSIT
                : TransferId.Domain.ESCAPE, Hash.sha3(input));
    }

    /** The hold id of {@code hold}. */
    public static TransferId holdId(CustodyHold hold) {
        CustodyEvent event = hold.event();
        return holdId(event.kind(), event.position().txHash(), event.ordinal(), hold.incarnation());
    }

    /** The id of the post of the hold {@code holdId}. */
    public static TransferId postId(TransferId holdId) {
        return TransferId.reserved(TransferId.Domain.CUSTODY_POST, Hash.sha3(holdId.bytes()));
    }

    /** The id of the void of the hold {@code holdId}. */
    public static TransferId voidId(TransferId holdId) {
        return TransferId.reserved(TransferId.Domain.CUSTODY_VOID, Hash.sha3(holdId.bytes()));
    }

    /**
     * A hold's reference: {@code deposit:<txHash>:<logIndex>} or {@code escape:<txHash>:<logIndex>},
     * the log it was booked from.
     */
    public static String reference(CustodyEvent event) {
        return (event.kind() == CustodyEvent.Kind.DEPOSIT ? "deposit:" : "escape:")
                + event.position().txHash().value() + ":" + event.position().logIndex();
    }

    /** The pending transfer that books {@code hold}. */
    public static TransferRequest holdRequest(CustodyHold hold) {
        CustodyEvent event = hold.event();
        AccountKey user = AccountKey.user(event.account(), event.token());
        AccountKey custody = AccountKey.custody(event.token());
        boolean deposit = event.kind() == CustodyEvent.Kind.DEPOSIT;
        return TransferRequest.hold(holdId(hold), deposit ? custody : user, deposit ? user : custody, event.amount(),
                TransferRequest.MAX_SYSTEM_TIMEOUT_SECONDS).withReference(reference(event));
    }

    @Override
    public Outcome hold(CustodyHold hold) {
        TransferResult result = ledger.submitSystem(List.of(holdRequest(hold))).getFirst();
        return switch (result) {
            case OK -> Outcome.HELD;
            case EXISTS -> Outcome.ALREADY_BOOKED;
            default -> {
                CustodyEvent event = hold.event();
                log.error("{} {} of {} {} by {} not booked: {}{}", event.kind(), reference(event), event.amount(),
                        event.token(), event.account(), result, event.kind() == CustodyEvent.Kind.ESCAPE
                                ? "; the reconciler reports the difference until it is resolved by hand" : "");
                yield Outcome.REJECTED;
            }
        };
    }

    @Override
    public Outcome post(CustodyHold hold) {
        TransferId holdId = holdId(hold);
        TransferResult result = ledger.submitSystem(List.of(TransferRequest.postFull(postId(holdId), holdId)))
                .getFirst();
        return switch (result) {
            case OK -> hold.event().kind() == CustodyEvent.Kind.DEPOSIT ? Outcome.CREDITED : Outcome.DEBITED;
            case EXISTS, PENDING_ALREADY_POSTED -> Outcome.ALREADY_BOOKED;
            default -> throw new IllegalStateException("the ledger refused to post custody hold " + holdId + " ("
                    + reference(hold.event()) + "): " + result);
        };
    }

    @Override
    public Outcome release(CustodyHold hold) {
        TransferId holdId = holdId(hold);
        TransferResult result = ledger.submitSystem(List.of(TransferRequest.voidPending(voidId(holdId), holdId)))
                .getFirst();
        return switch (result) {
            case OK -> Outcome.VOIDED;
            // Never booked (a crash between storing the hold and the ledger), or voided before.
            case EXISTS, PENDING_NOT_FOUND, PENDING_ALREADY_VOIDED -> Outcome.ALREADY_BOOKED;
            default -> throw new IllegalStateException("the ledger refused to void custody hold " + holdId + " ("
                    + reference(hold.event()) + "): " + result);
        };
    }
}
