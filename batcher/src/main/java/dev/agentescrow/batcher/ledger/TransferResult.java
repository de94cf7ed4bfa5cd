package dev.agentescrow.batcher.ledger;

/**
 * The outcome of one submitted transfer. Only {@link #OK} and {@link #EXISTS} mean the transfer
 * is committed; every other result means nothing was written for it.
 */
public enum TransferResult {
    /** Committed now. */
    OK,
    /** Committed earlier with the same content (idempotent replay); nothing new written. */
    EXISTS,
    /** The id was committed earlier with different content: a conflict. */
    EXISTS_WITH_DIFFERENT_CONTENT,
    /** The debit account's available balance is smaller than the amount. */
    INSUFFICIENT_FUNDS,
    /** Zero, negative or not a decimal integer. */
    INVALID_AMOUNT,
    /** Larger than 2^256 - 1. */
    AMOUNT_EXCEEDS_UINT256,
    /** The token is not registered. */
    UNKNOWN_TOKEN,
    /** An owner or token that is not a valid address, or is the zero address. */
    INVALID_ADDRESS,
    /** A transfer or pending id that is not a 128-bit hex number or UUID (string input only). */
    INVALID_ID,
    /** A transfer kind or account name that is not known (string input only). */
    INVALID_KIND,
    /** Debit and credit account are the same. */
    SAME_ACCOUNT,
    /** Debit and credit accounts are in different tokens. */
    ACCOUNT_TOKEN_MISMATCH,
    /** A pending transfer's timeout is missing, not positive or longer than the configured maximum. */
    INVALID_TIMEOUT,
    /** The reference is longer than 128 characters or holds a control character (e.g. NUL). */
    INVALID_REFERENCE,
    /** No pending transfer with that id. */
    PENDING_NOT_FOUND,
    /** The pending transfer was already posted. */
    PENDING_ALREADY_POSTED,
    /** The pending transfer was already voided. */
    PENDING_ALREADY_VOIDED,
    /** The pending transfer is past its timeout (expired, or about to be expired). */
    PENDING_EXPIRED,
    /** The post amount is larger than the pending amount. */
    POST_AMOUNT_EXCEEDS_PENDING,
    /** Another member of this linked group failed, so this one was not applied. */
    LINKED_TRANSFER_FAILED,
    /** The last transfer of the submission is flagged linked: the group has no end. */
    LINKED_GROUP_OPEN,
    /**
     * The id (or the pending id of a POST or VOID) is in the namespace reserved for ids the system
     * derives (top 32 bits all ones, see {@link TransferId}): choose another id.
     */
    RESERVED_ID,
    /** Client input may not debit a system account (CUSTODY, FEES, ESCROW, PAYOUTS) nor credit CUSTODY. */
    SYSTEM_ACCOUNT,
    /** Larger than the token's maximum transfer amount (never more than the vault's cap, 2^85 - 1). */
    AMOUNT_EXCEEDS_LIMIT,
    /** The payee's balance would pass the token's maximum balance (never more than the vault's cap). */
    BALANCE_EXCEEDS_LIMIT,
    /** The ledger holds its configured maximum number of accounts: a new payee cannot be opened. */
    TOO_MANY_ACCOUNTS,
    /** The ledger holds its configured maximum number of open pending transfers. */
    TOO_MANY_PENDING;

    /** Whether the transfer is committed (now or earlier). */
    public boolean committed() {
        return this == OK || this == EXISTS;
    }
}
