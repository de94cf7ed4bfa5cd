// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISettlementVault
/// @notice Custody of ERC-20 tokens for an off-chain ledger. Accounts deposit admin-listed tokens;
/// an operator settles netted batches of off-chain transfers and pays out withdrawals. Users never
/// depend on the operator to get out: a forced withdrawal requested on chain must be served by a
/// batch within `forcedWithdrawalWindow`, else anyone can freeze the vault; if no batch settles for
/// `escapeDelay` seconds the escape hatch opens. A frozen vault (by an overdue request or by the
/// escape hatch) never settles again and every account takes its last settled balance out once.
///
/// Accounts get compact ids when first seen (first deposit or operator registration): account ids
/// are sequential from 1 and below 2^31; tokens get sequential ids from 1 when the admin lists them. Settled balances are stored three
/// per storage slot, so one settled balance is capped at 2^85 - 1 base units (about 3.9e25: 38.7
/// million tokens of 18 decimals, 3.9e19 tokens of 6 decimals).
///
/// Batch encoding (`settleBatch`'s `batch` argument), big-endian, fixed width, no padding:
/// ```
/// batch   := section*                       (at most MAX_BATCH_TOKENS sections)
/// section := tokenId:uint32 deltaCount:uint16 payoutCount:uint16 delta*deltaCount payout*payoutCount
/// delta   := account:uint32 amount:uint128  (20 bytes; bit 31 of account set = debit, clear = credit)
/// payout  := account:uint32 amount:uint128 recipient:address   (40 bytes)
/// ```
/// Per section, the credits of the deltas must equal their debits (the netted transfers sum to
/// zero); a credit past 2^85 - 1 keeps the excess as a pending payout of the account. Each payout
/// then debits its account by `amount` and sends `amount` tokens to `recipient`. A payout with bit
/// 31 of its account set **serves the account's forced withdrawal**: `amount` must be the requested
/// amount, `recipient` the account itself, and the vault debits and pays the lesser of the request
/// and the balance left after the section's deltas. A payout the token refuses, or one past the
/// token's outflow limit of the current window, is kept as a pending payout the recipient claims.
interface ISettlementVault {
    /// @notice Emitted when `token` is first deposited and gets the compact id `tokenId`.
    event TokenRegistered(address indexed token, uint32 tokenId);

    /// @notice Emitted when `account` gets the compact id `accountId`: at its first deposit, or
    /// when the operator registers it (`registerAccounts`) so that a batch can credit it.
    event AccountRegistered(address indexed account, uint32 accountId);

    /// @notice Emitted for every deposit: `account` (batch id `accountId`) deposited `amount` of
    /// `token` (token id `tokenId`); its settled balance is now `balance`.
    event Deposited(
        address indexed token, address indexed account, uint32 accountId, uint32 tokenId, uint256 amount, uint256 balance
    );

    /// @notice Emitted when batch `batchId` settled `entries` deltas and payouts; `merkleRoot` is
    /// the root of the batch's transfers (OpenZeppelin StandardMerkleTree).
    event BatchSettled(uint64 indexed batchId, bytes32 merkleRoot, uint256 entries);

    /// @notice Emitted when a payout of batch `batchId` reached `recipient`.
    event PayoutSent(
        uint64 indexed batchId, address indexed token, address indexed recipient, uint32 accountId, uint256 amount
    );

    /// @notice Emitted when `token` refused a payout of batch `batchId` to `recipient`; the amount
    /// is now claimable with `claimPayout`.
    event PayoutDeferred(
        uint64 indexed batchId, address indexed token, address indexed recipient, uint32 accountId, uint256 amount
    );

    /// @notice Emitted when `recipient` claimed its pending payout of `amount` `token`, sent to `to`.
    event PayoutClaimed(address indexed token, address indexed recipient, address to, uint256 amount);

    /// @notice Emitted when `account` took its whole settled `amount` of `token` out through the
    /// escape hatch.
    event EscapeWithdrawn(address indexed token, address indexed account, uint256 amount);

    /// @notice Emitted when the admin listed `token` under id `tokenId`.
    event TokenListed(address indexed token, uint32 tokenId, uint256 minForcedWithdrawal, uint256 outflowLimit);

    /// @notice Emitted when the admin changed `token`'s forced-withdrawal minimum or outflow limit.
    event TokenLimitsChanged(address indexed token, uint256 minForcedWithdrawal, uint256 outflowLimit);

    /// @notice Emitted when `account` (id `accountId`) requested on chain to withdraw `amount` of
    /// `token`; a batch must serve it by `deadline` (unix seconds).
    event ForcedWithdrawalRequested(
        address indexed token, address indexed account, uint32 accountId, uint256 amount, uint64 deadline
    );

    /// @notice Emitted when batch `batchId` served `account`'s forced withdrawal of `requested`
    /// `token` by debiting and paying out `paid` (a `PayoutSent` or `PayoutDeferred` follows when
    /// `paid` is not zero).
    event ForcedWithdrawalServed(
        uint64 indexed batchId, address indexed token, address indexed account, uint256 requested, uint256 paid
    );

    /// @notice Emitted when the vault froze for good: `by` named `account`'s overdue forced
    /// withdrawal of `token`, or used the open escape hatch (then `account` is `by`).
    event Frozen(address indexed by, address indexed token, address indexed account);

    /// @notice Emitted when a batch credit would have taken `account`'s balance of `token` past
    /// 2^85 - 1: the `excess` became a pending payout of `account` (before that batch's `BatchSettled`).
    event BalanceCapExceeded(address indexed token, address indexed account, uint256 excess);

    /// @notice Emitted when `account` was granted the operator role; it may act from `activeFrom`.
    event OperatorScheduled(address indexed account, uint256 activeFrom);

    /// @notice Emitted when the admin sent `amount` of `token` that no account owns (sent to the
    /// vault directly, or an unlisted token) to `to`.
    event StraySwept(address indexed token, address indexed to, uint256 amount);

    /// @notice Emitted when `account` paused deposits and settlement until `until` (unix seconds).
    event Paused(address account, uint256 until);

    /// @notice Emitted when `account` ended the pause early.
    event Unpaused(address account);

    /// @notice The vault is paused: deposits and settlement are blocked.
    error VaultPaused();

    /// @notice `unpause` was called while the vault was not paused.
    error VaultNotPaused();

    /// @notice A deposit or payout of zero.
    error VaultZeroAmount();

    /// @notice The constructor got an escape delay outside [forcedWithdrawalWindow, MAX_ESCAPE_DELAY]
    /// seconds (shorter, a pause after a quiet spell could open the hatch before the operator can settle).
    error VaultInvalidEscapeDelay(uint256 escapeDelay);

    /// @notice The constructor got a forced-withdrawal window outside [MIN_FORCED_WITHDRAWAL_WINDOW,
    /// MAX_ESCAPE_DELAY] seconds.
    error VaultInvalidForcedWithdrawalWindow(uint256 window);

    /// @notice The constructor got an operator delay that is not longer than the forced-withdrawal
    /// window (or does not fit 48 bits).
    error VaultInvalidOperatorDelay(uint256 operatorDelay, uint256 forcedWithdrawalWindow);

    /// @notice The operator role of `account` takes effect at `activeFrom`, later than now.
    error VaultOperatorNotActive(address account, uint256 activeFrom);

    /// @notice The vault is frozen: no deposits, batches or forced-withdrawal requests any more.
    error VaultFrozen();

    /// @notice A new pause may start only at `availableAt` (a pause is followed by as long unpaused).
    error VaultPauseCooldown(uint256 availableAt);

    /// @notice `token` is not listed by the admin.
    error VaultTokenNotListed(address token);

    /// @notice `token` is listed already.
    error VaultTokenAlreadyListed(address token);

    /// @notice Token limits must be at least 1 and below 2^96.
    error VaultInvalidTokenLimits(uint256 minForcedWithdrawal, uint256 outflowLimit);

    /// @notice A forced withdrawal of `amount` is outside [`min`, 2^85 - 1], or the settled balance
    /// `balance` is below `min`.
    error VaultForcedWithdrawalAmount(uint256 amount, uint256 balance, uint256 min);

    /// @notice `account` already has an open forced withdrawal of `token`, due by `deadline`.
    error VaultForcedWithdrawalPending(address token, address account, uint256 deadline);

    /// @notice `account` has no open forced withdrawal of `token`.
    error VaultNoForcedWithdrawal(address token, address account);

    /// @notice A serving payout names `amount`, but `account` requested `requested`.
    error VaultForcedWithdrawalMismatch(address token, address account, uint256 requested, uint256 amount);

    /// @notice `account`'s forced withdrawal of `token` is due at `deadline`, not yet past.
    error VaultForcedWithdrawalNotOverdue(address token, address account, uint256 deadline);

    /// @notice `token`'s outflow limit is used up for this window; more flows out from `availableAt`.
    error VaultOutflowLimited(address token, uint256 availableAt);

    /// @notice `batchId`'s root is not kept (never settled, or older than the last ROOT_HISTORY batches).
    error VaultRootUnavailable(uint64 batchId);

    /// @notice The constructor got the zero address for a role holder.
    error VaultInvalidRoleHolder(address holder);

    /// @notice Payouts and claims must name a recipient other than the zero address and the vault.
    error VaultInvalidRecipient(address recipient);

    /// @notice No more account ids (2^31 - 1) or token ids (2^32 - 1) are left.
    error VaultIdsExhausted();

    /// @notice The batch id is not the next one: `expected` is `lastBatchId() + 1`.
    error VaultBatchIdMismatch(uint64 expected, uint64 batchId);

    /// @notice The batch holds more than `max` entries (deltas plus payouts) or token sections.
    error VaultBatchTooLarge(uint256 count, uint256 max);

    /// @notice The batch holds more than `max` payouts.
    error VaultTooManyPayouts(uint256 count, uint256 max);

    /// @notice The batch encoding is truncated or inconsistent at byte `offset`.
    error VaultMalformedBatch(uint256 offset);

    /// @notice The batch names a token id that no deposit registered.
    error VaultUnknownToken(uint256 tokenId);

    /// @notice The batch names an account id that no deposit registered.
    error VaultUnknownAccount(uint256 accountId);

    /// @notice The deltas of `token`'s section do not sum to zero.
    error VaultBatchNotBalanced(address token, uint256 credits, uint256 debits);

    /// @notice A debit of `needed` exceeds `account`'s settled `balance` of `token`.
    error VaultInsufficientBalance(address token, address account, uint256 balance, uint256 needed);

    /// @notice A deposit of `amount` would take `account`'s settled `balance` of `token` past 2^85 - 1.
    error VaultBalanceOverflow(address token, address account, uint256 balance, uint256 amount);

    /// @notice The escape hatch opens at `opensAt` (unix seconds), later than now.
    error VaultEscapeNotOpen(uint256 opensAt);

    /// @notice `account` has no settled balance of `token` to take out.
    error VaultNothingToWithdraw(address token, address account);

    /// @notice `recipient` has no pending payout of `token`.
    error VaultNoPendingPayout(address token, address recipient);

    /// @notice `account` cannot hold a vault account (the zero address).
    error VaultInvalidAccount(address account);

    /// @notice One `registerAccounts` call names `count` accounts, more than `max`.
    error VaultTooManyAccounts(uint256 count, uint256 max);

    /// @notice Deposits `amount` of listed `token` (approved to the vault beforehand); credits the
    /// caller's settled balance with what the vault actually received (balance before and after,
    /// so a fee-on-transfer token credits the net amount). Registers the caller on first sight.
    /// Blocked while paused or frozen. Rebasing tokens must not be listed (see docs/vault.md).
    function deposit(address token, uint256 amount) external;

    /// @notice Like `deposit`, with an EIP-2612 permit (owner = caller, spender = vault, value =
    /// `amount`) in the same call. A permit that fails (e.g. already used by a front-runner) is
    /// ignored as long as the allowance suffices.
    function depositWithPermit(address token, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external;

    /// @notice Gives every account in `accounts` that has no vault account id one, in order, so
    /// that batches can credit accounts that never deposited (an agent that only earns). Accounts
    /// that already have an id are skipped, so a repeated call changes nothing. Operator role
    /// only; blocked while paused; at most `MAX_REGISTER_ACCOUNTS` accounts per call.
    /// @return registered how many accounts got an id now
    function registerAccounts(address[] calldata accounts) external returns (uint256 registered);

    /// @notice Applies batch `batchId` (must be `lastBatchId() + 1`) encoded as described above,
    /// keeps `merkleRoot` in the root ring (and the `BatchSettled` event) and pushes the payouts
    /// within the tokens' outflow limits. Active operator only; blocked while paused or frozen.
    function settleBatch(uint64 batchId, bytes32 merkleRoot, bytes calldata batch) external;

    /// @notice Sends the caller's pending payouts of `token` to `to`, as much as the token's outflow
    /// limit of the current window allows (the rest stays pending). Works while paused; once the
    /// vault is frozen it sends the whole pending payout, outside the outflow limit (as escapes).
    function claimPayout(address token, address to) external;

    /// @notice Asks on chain to withdraw `amount` of listed `token` from the caller's settled
    /// balance: a batch must serve it within `forcedWithdrawalWindow()` seconds, else anyone may
    /// `freeze` the vault. `amount` must be at least the token's minimum, and so must the settled
    /// balance; one open request per account and token. Works while paused (the clock runs on).
    function requestForcedWithdrawal(address token, uint256 amount) external;

    /// @notice Freezes the vault for good because `account`'s forced withdrawal of `token` is past
    /// its deadline unserved. Anyone may call, also while paused.
    function freeze(address token, address account) external;

    /// @notice Sends the caller's whole settled balance of `token` to the caller, once the vault is
    /// frozen or no batch has settled for `escapeDelay()` seconds; using the open hatch freezes the
    /// vault. Works while paused; not limited by the outflow limit.
    function escapeWithdraw(address token) external;

    /// @notice Lists `token` (gives it the next token id): only listed tokens can be deposited.
    /// `minForcedWithdrawal` is the smallest forced withdrawal, `outflowLimit` the most that
    /// payouts and claims of the token may send per `OUTFLOW_WINDOW`. Admin only.
    function listToken(address token, uint256 minForcedWithdrawal, uint256 outflowLimit) external;

    /// @notice Changes the limits of a listed token. Admin only.
    function setTokenLimits(address token, uint256 minForcedWithdrawal, uint256 outflowLimit) external;

    /// @notice Sends `to` the vault's balance of `token` that no account or pending payout owns
    /// (tokens sent to the vault directly, any unlisted token). Admin only.
    function sweepStray(address token, address to) external;

    /// @notice Blocks deposits and settlement for at most `maxPauseDuration()` seconds; a new pause
    /// may start only as long after the last one ended. Deadlines of forced withdrawals and the
    /// escape clock run on. Admin role only.
    function pause() external;

    /// @notice Lifts `pause`. Admin role only.
    function unpause() external;

    /// @notice The settled balance of `account` in `token`.
    function settledBalance(address token, address account) external view returns (uint256);

    /// @notice The payout of `token` that `recipient` can claim.
    function pendingPayout(address token, address recipient) external view returns (uint256);

    /// @notice The batch id of `account`, 0 if it never deposited.
    function accountIdOf(address account) external view returns (uint32);

    /// @notice The account with batch id `accountId`, the zero address if none.
    function accountOf(uint32 accountId) external view returns (address);

    /// @notice The batch id of `token`, 0 if not listed.
    function tokenIdOf(address token) external view returns (uint32);

    /// @notice The token with id `tokenId`, the zero address if none.
    function tokenOf(uint32 tokenId) external view returns (address);

    /// @notice The id of the last settled batch, 0 before the first.
    function lastBatchId() external view returns (uint64);

    /// @notice When the last batch settled (the deployment time before the first), unix seconds.
    function lastSettledAt() external view returns (uint64);

    /// @notice When the escape hatch opens if no further batch settles, unix seconds.
    function escapeOpensAt() external view returns (uint256);

    /// @notice Seconds without settlement after which the escape hatch opens.
    function escapeDelay() external view returns (uint256);

    /// @notice Whether deposits and settlement are paused.
    function paused() external view returns (bool);

    /// @notice Whether the vault is frozen for good.
    function frozen() external view returns (bool);

    /// @notice Seconds a batch has to serve a forced withdrawal.
    function forcedWithdrawalWindow() external view returns (uint256);

    /// @notice Seconds after being granted before an operator may act (longer than the window).
    function operatorDelay() external view returns (uint256);

    /// @notice Longest pause, seconds: half the forced-withdrawal window.
    function maxPauseDuration() external view returns (uint256);

    /// @notice When `account`'s operator role takes effect (0 for the constructor's operator).
    function operatorActiveFrom(address account) external view returns (uint256);

    /// @notice `account`'s open forced withdrawal of `token`: amount and deadline (zeros if none).
    function forcedWithdrawal(address token, address account) external view returns (uint256 amount, uint256 deadline);

    /// @notice `token`'s id (0 if not listed), forced-withdrawal minimum and outflow limit.
    function tokenConfig(address token)
        external
        view
        returns (uint32 tokenId, uint256 minForcedWithdrawal, uint256 outflowLimit);

    /// @notice How much of `token` payouts and claims may still send in the current window (claims of
    /// a frozen vault are not limited).
    function outflowAvailable(address token) external view returns (uint256);

    /// @notice What the vault owes in `token`: settled balances plus pending payouts.
    function custody(address token) external view returns (uint256);

    /// @notice The Merkle root of batch `batchId`, one of the last ROOT_HISTORY batches.
    function batchRoot(uint64 batchId) external view returns (bytes32);

    /// @notice The StandardMerkleTree leaf of a transfer, leaf types
    /// `["bytes32", "address", "address", "address", "uint256"]` = (transferId, token, from, to, amount).
    function transferLeaf(bytes32 transferId, address token, address from, address to, uint256 amount)
        external
        pure
        returns (bytes32);

    /// @notice Whether `proof` shows the transfer's leaf under the root the vault keeps for batch
    /// `batchId` (one of the last ROOT_HISTORY = 4,096 batches; older roots are in `BatchSettled`).
    function verifyTransfer(
        uint64 batchId,
        bytes32[] calldata proof,
        bytes32 transferId,
        address token,
        address from,
        address to,
        uint256 amount
    ) external view returns (bool);
}
