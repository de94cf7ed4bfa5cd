// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISettlementVault
/// @notice Custody of ERC-20 tokens for an off-chain ledger. Accounts deposit tokens; an operator
/// settles netted batches of off-chain transfers and pays out withdrawals; if the operator stops
/// settling for `escapeDelay` seconds, every account can take its settled balance out alone.
///
/// Accounts and tokens get compact ids when first seen (on their first deposit): account ids are
/// sequential from 1 and below 2^31, token ids sequential from 1. Settled balances are stored three
/// per storage slot, so one settled balance is capped at 2^85 - 1 base units (about 3.9e25: 38.7
/// million tokens of 18 decimals, 3.9e19 tokens of 6 decimals).
///
/// Batch encoding (`settleBatch`'s `batch` argument), big-endian, fixed width, no padding:
/// ```
/// batch   := section*                       (at most MAX_BATCH_TOKENS sections)
/// section := tokenId:uint32 deltaCount:uint16 payoutCount:uint16 delta*deltaCount payout*payoutCount
/// delta   := account:uint32 amount:uint128  (20 bytes; bit 31 of account set = debit, clear = credit)
/// payout  := account:uint32 amount:uint128 recipient:address   (40 bytes; bit 31 of account clear)
/// ```
/// Per section, the credits of the deltas must equal their debits (the netted transfers sum to
/// zero); each payout then debits its account by `amount` and sends `amount` tokens to
/// `recipient`. A payout the token refuses is kept as a pending payout the recipient can claim.
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

    /// @notice Emitted when `account` paused deposits and settlement.
    event Paused(address account);

    /// @notice Emitted when `account` resumed deposits and settlement.
    event Unpaused(address account);

    /// @notice The vault is paused: deposits and settlement are blocked.
    error VaultPaused();

    /// @notice `unpause` was called while the vault was not paused.
    error VaultNotPaused();

    /// @notice A deposit or payout of zero.
    error VaultZeroAmount();

    /// @notice The constructor got an escape delay outside [1, MAX_ESCAPE_DELAY] seconds.
    error VaultInvalidEscapeDelay(uint256 escapeDelay);

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

    /// @notice A credit of `amount` would take `account`'s settled `balance` of `token` past 2^85 - 1.
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

    /// @notice Deposits `amount` of `token` (approved to the vault beforehand) to the caller's
    /// settled balance. Registers the token and the caller on first sight.
    /// Fee-on-transfer and rebasing tokens are not supported.
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
    /// records `merkleRoot` in the `BatchSettled` event and pushes the payouts. Operator role only;
    /// blocked while paused.
    function settleBatch(uint64 batchId, bytes32 merkleRoot, bytes calldata batch) external;

    /// @notice Sends the caller's pending payouts of `token` to `to`.
    function claimPayout(address token, address to) external;

    /// @notice Sends the caller's whole settled balance of `token` to the caller, once no batch has
    /// settled for `escapeDelay()` seconds. Works while paused.
    function escapeWithdraw(address token) external;

    /// @notice Blocks deposits and settlement. Admin role only.
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

    /// @notice The batch id of `token`, 0 if never deposited.
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

    /// @notice The StandardMerkleTree leaf of a transfer, leaf types
    /// `["bytes32", "address", "address", "address", "uint256"]` = (transferId, token, from, to, amount).
    function transferLeaf(bytes32 transferId, address token, address from, address to, uint256 amount)
        external
        pure
        returns (bytes32);

    /// @notice Whether `proof` shows the transfer's leaf under `merkleRoot` (a `BatchSettled` root).
    function verifyTransfer(
        bytes32 merkleRoot,
        bytes32[] calldata proof,
        bytes32 transferId,
        address token,
        address from,
        address to,
        uint256 amount
    ) external pure returns (bool);
}
