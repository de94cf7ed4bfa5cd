package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Amount;
import java.util.Objects;

/**
 * One transfer as a client submits it. Build it with the factories: {@link #single},
 * {@link #hold}, {@link #post}, {@link #postFull}, {@link #voidPending}; then optionally
 * {@link #withReference} and {@link #linkedToNext}.
 *
 * @param debit          payer; null for POST and VOID (taken from the pending transfer)
 * @param credit         payee; null for POST and VOID
 * @param amount         the amount; for POST null means the full pending amount; null for VOID
 * @param pendingId      the pending transfer a POST or VOID resolves
 * @param timeoutSeconds for PENDING: seconds until {@code expirePending()} may expire it
 * @param reference      free text for the caller (e.g. an escrow or task id), at most 128 chars
 * @param linked         this transfer and the next one in the same submission commit together
 */
public record TransferRequest(
        TransferId id,
        TransferKind kind,
        AccountKey debit,
        AccountKey credit,
        Amount amount,
        TransferId pendingId,
        Long timeoutSeconds,
        String reference,
        boolean linked) {

    public static final int MAX_REFERENCE_LENGTH = 128;

    /**
     * The longest timeout of a hold the system books ({@code Ledger.submitSystem}): the largest the
     * schema stores, about 68 years. The indexer books a deposit's or escape's hold with it, so the
     * hold never expires before the indexer posts it (at the confirmation depth) or voids it (when its
     * block leaves the chain); clients stay bounded by {@code LedgerConfig.maxTimeoutSeconds}.
     */
    public static final long MAX_SYSTEM_TIMEOUT_SECONDS = Integer.MAX_VALUE;

    /**
     * Whether {@code reference} may be stored: null, or at most 128 characters with no control
     * character (NUL and the like, which PostgreSQL text refuses or a reader misreads) and no
     * unpaired surrogate (not encodable as UTF-8).
     */
    public static boolean isValidReference(String reference) {
        if (reference == null) {
            return true;
        }
        if (reference.length() > MAX_REFERENCE_LENGTH) {
            return false;
        }
        for (int i = 0; i < reference.length(); i++) {
            char ch = reference.charAt(i);
            if (Character.isISOControl(ch)) {
                return false;
            }
            if (Character.isHighSurrogate(ch)) {
                if (i + 1 >= reference.length() || !Character.isLowSurrogate(reference.charAt(i + 1))) {
                    return false;
                }
                i++;
            } else if (Character.isLowSurrogate(ch)) {
                return false;
            }
        }
        return true;
    }

    public TransferRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        switch (kind) {
            case SINGLE, PENDING -> {
                Objects.requireNonNull(debit, "debit");
                Objects.requireNonNull(credit, "credit");
                Objects.requireNonNull(amount, "amount");
                if (pendingId != null) {
                    throw new IllegalArgumentException(kind + " has no pending id");
                }
            }
            case POST, VOID -> {
                Objects.requireNonNull(pendingId, "pendingId");
                if (debit != null || credit != null || timeoutSeconds != null) {
                    throw new IllegalArgumentException(kind + " takes accounts and timeout from the pending transfer");
                }
                if (kind == TransferKind.VOID && amount != null) {
                    throw new IllegalArgumentException("VOID has no amount");
                }
            }
            case EXPIRE -> throw new IllegalArgumentException("EXPIRE transfers are written by the ledger only");
        }
        if (kind != TransferKind.PENDING && timeoutSeconds != null) {
            throw new IllegalArgumentException("only PENDING has a timeout");
        }
    }

    /** Moves {@code amount} from {@code debit} to {@code credit} at once. */
    public static TransferRequest single(TransferId id, AccountKey debit, AccountKey credit, Amount amount) {
        return new TransferRequest(id, TransferKind.SINGLE, debit, credit, amount, null, null, null, false);
    }

    /** Holds {@code amount} of {@code debit} for {@code credit} until posted, voided or expired. */
    public static TransferRequest hold(
            TransferId id, AccountKey debit, AccountKey credit, Amount amount, long timeoutSeconds) {
        return new TransferRequest(id, TransferKind.PENDING, debit, credit, amount, null, timeoutSeconds, null, false);
    }

    /** Posts {@code amount} of the pending transfer; the rest returns to the payer. */
    public static TransferRequest post(TransferId id, TransferId pendingId, Amount amount) {
        return new TransferRequest(id, TransferKind.POST, null, null, Objects.requireNonNull(amount, "amount"),
                pendingId, null, null, false);
    }

    /** Posts the whole pending amount. */
    public static TransferRequest postFull(TransferId id, TransferId pendingId) {
        return new TransferRequest(id, TransferKind.POST, null, null, null, pendingId, null, null, false);
    }

    /** Voids the pending transfer: the held amount returns to the payer. */
    public static TransferRequest voidPending(TransferId id, TransferId pendingId) {
        return new TransferRequest(id, TransferKind.VOID, null, null, null, pendingId, null, null, false);
    }

    public TransferRequest withReference(String newReference) {
        return new TransferRequest(id, kind, debit, credit, amount, pendingId, timeoutSeconds, newReference, linked);
    }

    /** Links this transfer to the next one of the same submission: all of the group commit, or none. */
    public TransferRequest linkedToNext() {
        return new TransferRequest(id, kind, debit, credit, amount, pendingId, timeoutSeconds, reference, true);
    }
}
