// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ITaskEscrow
/// @notice Per-task ERC-20 escrows, many in one contract, in which every state has an exit that
/// needs no one's goodwill. The payer names each escrow with a `bytes32` task id of its own
/// choosing; the escrow is stored under `keccak256(abi.encode(payer, taskId))` (see `escrowId`),
/// so no other account can take a payer's id before it.
///
/// Life cycle: the payer funds the escrow in the creating call (`Open`); every payee accepts the
/// terms (arbiter, evaluator, deadline, maximum fee, fallback, ...) by a call or by an EIP-712
/// signature that anyone may submit; once all have accepted the escrow is `Funded` and the payer
/// or the evaluator releases the shares (minus a platform fee fixed at creation, capped by the
/// terms). An escrow no payee accepted can be cancelled by the payer at once. After the deadline
/// the payer may refund what is left; after the deadline plus `GRACE_PERIOD` anyone may. The
/// payer or a payee may dispute until the deadline plus `GRACE_PERIOD`; the arbiter then has
/// `ARBITRATION_PERIOD` to split what is held, after which anyone may apply the terms' fallback.
///
/// Accounting, for every escrow at every moment:
/// `sum(shares) == paid to payees + fees + refunded to the payer + held`, and the contract's
/// balance of a token is the sum of `held` over that token's escrows plus the fees owed in it.
///
/// State names follow ERC-8183 where they mean the same thing: see docs/escrow.md for the mapping.
interface ITaskEscrow {
    /// @notice Life cycle of one escrow. `Completed`, `Rejected`, `Expired` and `Resolved` are final.
    /// - `None`: no escrow under this id.
    /// - `Open`: funded, waiting for every payee's acceptance; the payer may cancel while no payee
    ///   has accepted, and may refund after the deadline.
    /// - `Funded`: every payee accepted; releases, disputes and (after the deadline) the refund.
    /// - `Disputed`: the arbiter may split what is held until its deadline; then anyone may
    ///   apply the fallback.
    /// - `Completed`: every payee received its whole share.
    /// - `Rejected`: cancelled by the payer before any payee accepted; everything went back.
    /// - `Expired`: the remainder went back to the payer after the deadline.
    /// - `Resolved`: the arbiter's split or the fallback paid out what was held.
    enum State {
        None,
        Open,
        Funded,
        Disputed,
        Completed,
        Rejected,
        Expired,
        Resolved
    }

    /// @notice What happens to a disputed escrow that the arbiter leaves undecided past its deadline.
    /// - `RefundPayer`: everything held goes back to the payer.
    /// - `PayPayees`: every payee gets its remaining share (minus the fee).
    /// - `SplitEvenly`: every payee gets half its remaining share, rounded down (minus the fee);
    ///   the payer gets the rest, including the rounding dust.
    enum Fallback {
        RefundPayer,
        PayPayees,
        SplitEvenly
    }

    /// @notice What a payer proposes when creating an escrow, and what every payee accepts.
    /// @param token ERC-20 token escrowed (no fee-on-transfer or rebasing tokens); non-zero.
    /// @param payees Payee accounts, 1 to `MAX_PAYEES`, neither zero nor this contract; addressed
    /// by index afterwards (the same account may appear more than once).
    /// @param shares Amount per payee (gross, before the platform fee), same length as `payees`.
    /// @param arbiter Resolves disputes; neither zero, nor this contract, nor the payer, nor a payee.
    /// @param evaluator May release, like the payer; non-zero (the payer itself for none).
    /// @param deadline Unix time (seconds), in the future and at most `MAX_DURATION` ahead.
    /// @param maxFeeBps The highest platform fee the payer accepts; create reverts above it.
    /// @param fallbackRule Applied to a dispute that the arbiter leaves undecided.
    /// @param atomic If true, only `releaseAll` releases: every payee is paid or none.
    /// @param termsHash Hash of the off-chain terms of the task, recorded as is.
    struct Terms {
        address token;
        address[] payees;
        uint256[] shares;
        address arbiter;
        address evaluator;
        uint64 deadline;
        uint16 maxFeeBps;
        Fallback fallbackRule;
        bool atomic;
        bytes32 termsHash;
    }

    /// @notice Everything stored about an escrow except its payees (see `getPayees`).
    /// @param amount Total funded (the sum of the shares).
    /// @param held What the escrow still holds.
    /// @param feeBps Platform fee in basis points, fixed when the escrow was created.
    /// @param feeRecipient Who accrues this escrow's fees, fixed when the escrow was created.
    /// @param acceptedCount How many payees have accepted.
    /// @param arbitrationDeadline While `Disputed`: the last second the arbiter may resolve; else 0.
    struct EscrowInfo {
        State state;
        address token;
        address payer;
        address arbiter;
        address evaluator;
        uint64 deadline;
        uint16 feeBps;
        uint16 maxFeeBps;
        Fallback fallbackRule;
        bool atomic;
        bytes32 termsHash;
        address feeRecipient;
        uint256 amount;
        uint256 held;
        uint256 payeeCount;
        uint256 acceptedCount;
        uint64 arbitrationDeadline;
    }

    /// @notice Escrow `id` was created for task `taskId` of `payer` (so
    /// `id == escrowId(payer, taskId)`) and funded with `amount` of `token` by `payer`; it is `Open`.
    event Created(
        bytes32 indexed id,
        address indexed payer,
        address indexed token,
        bytes32 taskId,
        uint256 amount,
        uint16 feeBps,
        uint64 deadline,
        bool atomic,
        bytes32 termsHash
    );

    /// @notice Payee `index` (`payee`) of escrow `id` accepted its terms.
    event Accepted(bytes32 indexed id, address indexed payee, uint256 index);

    /// @notice The last payee of escrow `id` accepted: the escrow is `Funded`.
    event Funded(bytes32 indexed id);

    /// @notice `payee` of escrow `id` was paid `amount`; `fee` more accrued to the escrow's fee
    /// recipient. The payee's share shrank by `amount + fee`. Also emitted for the payees' part of a
    /// resolution or a fallback.
    event Released(bytes32 indexed id, address indexed payee, uint256 amount, uint256 fee);

    /// @notice Every share of escrow `id` has been released: the escrow is `Completed`.
    event Completed(bytes32 indexed id);

    /// @notice The payer cancelled escrow `id` before any payee accepted; `amount` went back to it.
    event Rejected(bytes32 indexed id, address indexed payer, uint256 amount);

    /// @notice After the deadline, the remaining `amount` of escrow `id` went back to `payer`.
    event Expired(bytes32 indexed id, address indexed payer, uint256 amount);

    /// @notice Escrow `id` was disputed by `by` (the payer or a payee); the arbiter may resolve it
    /// until `arbitrationDeadline` (inclusive).
    event Disputed(bytes32 indexed id, address indexed by, uint64 arbitrationDeadline);

    /// @notice The arbiter resolved escrow `id`: `toPayer` went back to the payer; the payees'
    /// parts were announced by `Released` events in the same transaction.
    event Resolved(bytes32 indexed id, address indexed arbiter, uint256 toPayer);

    /// @notice `by` applied the fallback `fallbackRule` of escrow `id` after the arbiter's deadline: `toPayer`
    /// went back to the payer; the payees' parts were announced by `Released` events.
    event FallbackApplied(bytes32 indexed id, address indexed by, Fallback fallbackRule, uint256 toPayer);

    /// @notice `recipient` claimed `amount` of its accrued fees in `token`, paid to `to`.
    event FeesClaimed(address indexed recipient, address indexed token, address to, uint256 amount);

    /// @notice The fee for escrows created from now on became `feeBps` basis points.
    event FeeBpsSet(uint16 feeBps);

    /// @notice Fees of escrows created from now on accrue to `feeRecipient`.
    event FeeRecipientSet(address indexed feeRecipient);

    /// @notice An escrow already exists under `id` (whatever its state).
    error EscrowAlreadyExists(bytes32 id);

    /// @notice Escrow `id` is in `state`, in which this operation is not allowed.
    error EscrowInvalidState(bytes32 id, State state);

    /// @notice `caller` may not perform this operation on escrow `id`.
    error EscrowUnauthorized(bytes32 id, address caller);

    /// @notice `token` is not a usable token address (zero).
    error EscrowInvalidToken(bytes32 id, address token);

    /// @notice `count` payees is outside 1..MAX_PAYEES.
    error EscrowInvalidPayeeCount(bytes32 id, uint256 count);

    /// @notice Two arrays that must have the same length do not.
    error EscrowLengthMismatch(bytes32 id, uint256 expected, uint256 actual);

    /// @notice Payee `index` is the zero address or this contract, or no such payee exists.
    error EscrowInvalidPayee(bytes32 id, uint256 index);

    /// @notice The share of payee `index` is zero.
    error EscrowZeroShare(bytes32 id, uint256 index);

    /// @notice Adding the share of payee `index` makes the total exceed `type(uint256).max`.
    error EscrowAmountOverflow(bytes32 id, uint256 index);

    /// @notice The arbiter would be zero, this contract, the payer or a payee.
    error EscrowInvalidArbiter(bytes32 id, address arbiter);

    /// @notice The evaluator would be zero or this contract.
    error EscrowInvalidEvaluator(bytes32 id, address evaluator);

    /// @notice `deadline` is not in the future, or more than `MAX_DURATION` ahead.
    error EscrowInvalidDeadline(bytes32 id, uint64 deadline);

    /// @notice The current fee `feeBps` is above the terms' maximum `maxFeeBps`.
    error EscrowFeeAboveMax(bytes32 id, uint256 feeBps, uint256 maxFeeBps);

    /// @notice Funding moved `received` instead of `expected` into the contract.
    error EscrowTransferMismatch(bytes32 id, uint256 expected, uint256 received);

    /// @notice A release of zero.
    error EscrowZeroAmount(bytes32 id);

    /// @notice `amount` exceeds the `remaining` share of payee `index`.
    error EscrowExceedsShare(bytes32 id, uint256 index, uint256 amount, uint256 remaining);

    /// @notice Escrow `id` is atomic: only `releaseAll` may release.
    error EscrowAtomicOnly(bytes32 id);

    /// @notice The deadline of escrow `id` has not passed at time `timestamp`.
    error EscrowDeadlineNotReached(bytes32 id, uint64 deadline, uint256 timestamp);

    /// @notice The deadline of escrow `id` has passed at time `timestamp`: no more acceptances.
    error EscrowDeadlinePassed(bytes32 id, uint64 deadline, uint256 timestamp);

    /// @notice Until `graceEnd` (inclusive) only the payer may refund escrow `id`.
    error EscrowInGracePeriod(bytes32 id, uint256 graceEnd, uint256 timestamp);

    /// @notice Escrow `id` can no longer be disputed: that ended at `disputeEnd` (inclusive).
    error EscrowDisputeClosed(bytes32 id, uint256 disputeEnd, uint256 timestamp);

    /// @notice The arbiter's time to resolve escrow `id` ended at `arbitrationDeadline` (inclusive).
    error EscrowArbitrationClosed(bytes32 id, uint64 arbitrationDeadline, uint256 timestamp);

    /// @notice The arbiter may still resolve escrow `id` until `arbitrationDeadline` (inclusive).
    error EscrowArbitrationOpen(bytes32 id, uint64 arbitrationDeadline, uint256 timestamp);

    /// @notice Payee `index` of escrow `id` already accepted.
    error EscrowAlreadyAccepted(bytes32 id, uint256 index);

    /// @notice `acceptedCount` payees of escrow `id` accepted: the payer can no longer cancel.
    error EscrowAccepted(bytes32 id, uint256 acceptedCount);

    /// @notice The signature is not payee `index`'s acceptance of escrow `id`'s terms.
    error EscrowInvalidSignature(bytes32 id, uint256 index);

    /// @notice The split does not add up exactly to the `held` amount of escrow `id`.
    error EscrowInvalidSplit(bytes32 id, uint256 held);

    /// @notice `feeBps` exceeds the maximum `maxFeeBps`.
    error EscrowFeeTooHigh(uint256 feeBps, uint256 maxFeeBps);

    /// @notice The fee recipient would be the zero address or this contract.
    error EscrowInvalidFeeRecipient(address feeRecipient);

    /// @notice `account` may not hold `role` (zero address).
    error EscrowInvalidRoleHolder(bytes32 role, address account);

    /// @notice `account` has no fees owed in `token`.
    error EscrowNothingToClaim(address token, address account);

    /// @notice Fees may not be paid to `to` (zero address or this contract).
    error EscrowInvalidClaimRecipient(address to);

    /// @notice Creates the escrow for the caller's (the payer's) task `taskId` from `terms` and
    /// pulls the sum of the shares from the caller, who must have approved this contract for it.
    /// The escrow is stored under `id = escrowId(msg.sender, taskId)`, which is returned, and is
    /// `Open` until every payee has accepted. Reverts with `EscrowAlreadyExists(id)` if the caller
    /// used `taskId` before, and with `EscrowFeeAboveMax` if the current fee exceeds
    /// `terms.maxFeeBps`. The fee and the fee recipient are fixed for the escrow. Emits `Created`.
    function create(bytes32 taskId, Terms calldata terms) external returns (bytes32 id);

    /// @notice Like `create`, but first applies the caller's EIP-2612 permit for the sum of the
    /// shares with `permitDeadline`, `v`, `r`, `s`. If the permit fails (e.g. someone already
    /// submitted it), creation still succeeds when the allowance suffices.
    function createWithPermit(
        bytes32 taskId,
        Terms calldata terms,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 id);

    /// @notice Payee `index` of the `Open` escrow `id` (the caller) accepts its terms, before the
    /// deadline. The last acceptance makes the escrow `Funded`. Emits `Accepted` (and `Funded`).
    function accept(bytes32 id, uint256 index) external;

    /// @notice Submits payee `index`'s EIP-712 `Acceptance` signature (see `acceptanceDigest`);
    /// anyone may call. ERC-1271 contract wallets may sign. Otherwise as `accept`.
    function acceptWithSignature(bytes32 id, uint256 index, bytes calldata signature) external;

    /// @notice The payer cancels the `Open` escrow `id` that no payee has accepted, getting back
    /// everything. Emits `Rejected`.
    function cancel(bytes32 id) external;

    /// @notice Releases `amount` of the share of payee `index` of the `Funded` escrow `id`: the
    /// payee gets `amount - fee`; `fee` accrues to the escrow's fee recipient. Payer or evaluator
    /// only, per-payee escrows only, also after the deadline as long as nobody refunded. The escrow
    /// becomes `Completed` when every share has been released. Emits `Released` (and `Completed`).
    function release(bytes32 id, uint256 index, uint256 amount) external;

    /// @notice Releases every payee's whole remaining share of the `Funded` escrow `id` and
    /// completes it. Payer or evaluator only. Emits `Released` per payee paid, then `Completed`.
    function releaseAll(bytes32 id) external;

    /// @notice Returns what the `Open` or `Funded` escrow `id` holds to its payer, once the
    /// deadline has passed: during `GRACE_PERIOD` after it only the payer may call, afterwards
    /// anyone. Emits `Expired`.
    function refund(bytes32 id) external;

    /// @notice The payer or a payee disputes the `Funded` escrow `id`, at the latest at the
    /// deadline plus `GRACE_PERIOD`. The arbiter may resolve it for `ARBITRATION_PERIOD`.
    /// Emits `Disputed`.
    function dispute(bytes32 id) external;

    /// @notice The arbiter resolves the disputed escrow `id` before its arbitration deadline:
    /// payee `i` gets `payeeAmounts[i]` of its remaining share (minus the fee), the payer
    /// `payerAmount`; together exactly what is held. Emits `Released` per paid payee, then `Resolved`.
    function resolve(bytes32 id, uint256[] calldata payeeAmounts, uint256 payerAmount) external;

    /// @notice After the arbitration deadline of the disputed escrow `id`, anyone applies the
    /// fallback its terms fixed. Emits `Released` per paid payee, then `FallbackApplied`.
    function applyFallback(bytes32 id) external;

    /// @notice Pays the caller's accrued fees in `token` to `to` (so a fee recipient that the token
    /// blocks can take its fees elsewhere). Emits `FeesClaimed`.
    function claimFees(address token, address to) external returns (uint256 amount);

    /// @notice Sets the fee, in basis points, for escrows created from now on (at most
    /// `MAX_FEE_BPS`). Fee manager role only. Emits `FeeBpsSet`.
    function setFeeBps(uint16 newFeeBps) external;

    /// @notice Sets who accrues the fees of escrows created from now on (neither zero nor this
    /// contract); existing escrows keep theirs. Fee manager role only. Emits `FeeRecipientSet`.
    function setFeeRecipient(address newFeeRecipient) external;

    /// @notice The id under which `payer`'s escrow for task `taskId` is (or would be) stored:
    /// `keccak256(abi.encode(payer, taskId))`.
    function escrowId(address payer, bytes32 taskId) external pure returns (bytes32);

    /// @notice The EIP-712 digest that payee `index` of escrow `id` signs to accept its terms:
    /// `Acceptance(bytes32 escrowId,uint256 index,address payee,address token,uint256 share,address arbiter,address evaluator,uint64 deadline,uint16 maxFeeBps,uint8 fallbackRule,bytes32 termsHash)`
    /// in the domain `("TaskEscrow", "1", chainId, this)`.
    function acceptanceDigest(bytes32 id, uint256 index) external view returns (bytes32);

    /// @notice The fee in basis points that an escrow created now would carry.
    function feeBps() external view returns (uint16);

    /// @notice Who accrues the fees of escrows created now.
    function feeRecipient() external view returns (address);

    /// @notice Fees in `token` accrued to `recipient` and not yet claimed.
    function feesOwed(address token, address recipient) external view returns (uint256);

    /// @notice Escrow `id` (all zero with state `None` if it does not exist).
    function getEscrow(bytes32 id) external view returns (EscrowInfo memory);

    /// @notice Payees of escrow `id`, by index: account, share, how much of the share has been
    /// released so far (including the fee taken from it), and whether the payee accepted.
    function getPayees(bytes32 id)
        external
        view
        returns (address[] memory accounts, uint256[] memory shares, uint256[] memory released, bool[] memory accepted);
}
