package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.util.Locale;

/**
 * A transfer as strings, as it arrives in JSON. {@link #parse()} turns it into a
 * {@link TransferRequest} or into the result code that says what is wrong, never an exception.
 *
 * @param kind    SINGLE (default when null), PENDING, POST or VOID
 * @param debit   payer: a user's address; never a system account (a client cannot spend the
 *                system's money: {@link TransferResult#SYSTEM_ACCOUNT}); ignored for POST and VOID
 * @param credit  payee: a user's address or a system account name (FEES, ESCROW, PAYOUTS; not
 *                CUSTODY, which only the vault's events move)
 * @param token   the token address (SINGLE, PENDING)
 * @param amount  decimal base units; for POST null means the full pending amount
 */
public record TransferInput(
        String id,
        String kind,
        String debit,
        String credit,
        String token,
        String amount,
        String pendingId,
        String timeoutSeconds,
        String reference,
        boolean linked) {

    /** Either a request or the reason there is none. */
    public record Parsed(TransferRequest request, TransferResult error) {
        public boolean ok() {
            return request != null;
        }
    }

    public static TransferInput single(String id, String debit, String credit, String token, String amount) {
        return new TransferInput(id, "SINGLE", debit, credit, token, amount, null, null, null, false);
    }

    public Parsed parse() {
        if (!TransferId.isValid(id)) {
            return error(TransferResult.INVALID_ID);
        }
        TransferKind parsedKind;
        try {
            parsedKind = kind == null ? TransferKind.SINGLE : TransferKind.valueOf(kind.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return error(TransferResult.INVALID_KIND);
        }
        TransferId transferId = TransferId.parse(id);
        if (transferId.isReserved()) {
            return error(TransferResult.RESERVED_ID);
        }
        if (!TransferRequest.isValidReference(reference)) {
            return error(TransferResult.INVALID_REFERENCE);
        }
        return switch (parsedKind) {
            case SINGLE, PENDING -> parseMovement(transferId, parsedKind);
            case POST, VOID -> parseResolution(transferId, parsedKind);
            case EXPIRE -> error(TransferResult.INVALID_KIND);
        };
    }

    private Parsed parseMovement(TransferId transferId, TransferKind parsedKind) {
        if (!Address.isValid(token) || Address.ZERO.equals(Address.of(token))) {
            return error(TransferResult.INVALID_ADDRESS);
        }
        Address tokenAddress = Address.of(token);
        AccountKey debitKey;
        AccountKey creditKey;
        try {
            debitKey = account(debit, tokenAddress);
            creditKey = account(credit, tokenAddress);
        } catch (InvalidAccount e) {
            return error(e.result);
        }
        if (debitKey.kind().isSystem() || creditKey.kind() == AccountKind.CUSTODY) {
            return error(TransferResult.SYSTEM_ACCOUNT);
        }
        TransferResult amountError = amountError(amount);
        if (amountError != null) {
            return error(amountError);
        }
        Long timeout = null;
        if (parsedKind == TransferKind.PENDING) {
            if (timeoutSeconds == null || !timeoutSeconds.matches("[0-9]{1,12}")) {
                return error(TransferResult.INVALID_TIMEOUT);
            }
            timeout = Long.parseLong(timeoutSeconds);
        } else if (timeoutSeconds != null) {
            return error(TransferResult.INVALID_TIMEOUT);
        }
        Amount value = new Amount(new BigInteger(amount));
        return ok(new TransferRequest(transferId, parsedKind, debitKey, creditKey, value, null, timeout, reference, linked));
    }

    private Parsed parseResolution(TransferId transferId, TransferKind parsedKind) {
        if (!TransferId.isValid(pendingId)) {
            return error(TransferResult.INVALID_ID);
        }
        if (TransferId.parse(pendingId).isReserved()) {
            return error(TransferResult.RESERVED_ID);
        }
        if (timeoutSeconds != null) {
            return error(TransferResult.INVALID_TIMEOUT);
        }
        Amount value = null;
        if (parsedKind == TransferKind.POST && amount != null) {
            TransferResult amountError = amountError(amount);
            if (amountError != null) {
                return error(amountError);
            }
            value = new Amount(new BigInteger(amount));
        } else if (parsedKind == TransferKind.VOID && amount != null) {
            return error(TransferResult.INVALID_AMOUNT);
        }
        return ok(new TransferRequest(transferId, parsedKind, null, null, value, TransferId.parse(pendingId), null,
                reference, linked));
    }

    /**
     * The result for an amount string that is not in (0, 2^256 - 1], or null if it is. Leading
     * zeros are allowed (F10); at most 100 digits are read.
     */
    static TransferResult amountError(String text) {
        if (text == null || !text.matches("-?[0-9]{1,100}")) {
            return TransferResult.INVALID_AMOUNT;
        }
        BigInteger value = new BigInteger(text);
        if (value.signum() <= 0) {
            return TransferResult.INVALID_AMOUNT;
        }
        if (value.compareTo(Amount.MAX_UINT256) > 0) {
            return TransferResult.AMOUNT_EXCEEDS_UINT256;
        }
        return null;
    }

    private static AccountKey account(String name, Address tokenAddress) throws InvalidAccount {
        if (name == null) {
            throw new InvalidAccount(TransferResult.INVALID_ADDRESS);
        }
        if (name.startsWith("0x") || name.startsWith("0X")) {
            if (!Address.isValid(name) || Address.ZERO.equals(Address.of(name))) {
                throw new InvalidAccount(TransferResult.INVALID_ADDRESS);
            }
            return AccountKey.user(Address.of(name), tokenAddress);
        }
        try {
            AccountKind accountKind = AccountKind.valueOf(name.toUpperCase(Locale.ROOT));
            if (!accountKind.isSystem()) {
                throw new InvalidAccount(TransferResult.INVALID_KIND);
            }
            return AccountKey.system(accountKind, tokenAddress);
        } catch (IllegalArgumentException e) {
            throw new InvalidAccount(TransferResult.INVALID_ADDRESS);
        }
    }

    private static Parsed ok(TransferRequest request) {
        return new Parsed(request, null);
    }

    private static Parsed error(TransferResult result) {
        return new Parsed(null, result);
    }

    /** Carries the result code out of the account parser. */
    private static final class InvalidAccount extends Exception {
        private final transient TransferResult result;

        InvalidAccount(TransferResult result) {
            super(result.name(), null, false, false);
            this.result = result;
        }
    }
}
