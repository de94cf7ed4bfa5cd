// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ITaskEscrow
/// @notice Per-task ERC-20 escrows, many in one contract. The payer names each escrow with a
/// `bytes32` task id of its own choosing; the escrow is stored under the id
/// `keccak256(abi.encode(payer, taskId))` (see `escrowId`), so task ids are per payer and no
/// other account can take a payer's id before it (front-running a pending create). The payer
/// funds an escrow in the creating call; the payer or the evaluator releases shares to the
/// payees (minus a platform fee fixed at creation); after the deadline anyone may refund the
/// remainder to the payer; the payer or a payee may freeze the escrow with a dispute that only
/// the arbiter resolves, with a split of what is held.
///
/// Accounting, for every escrow at every moment:
/// `sum(shares) == paid to payees + fees + refunded to the payer + held`, and the contract's
/// balance of a token is the sum of `held` over that token's escrows.
interface ITaskEscrow {
    /// @notice Life cycle of one escrow. `Released`, `Refunded` and `Resolved` are final.
    /// - `None`: no escrow under this id.
    /// - `Funded`: holds tokens; releases, a refund after the deadline and disputes are possible.
    /// - `Disputed`: frozen until the arbiter resolves it.
    /// - `Released`: every payee received its whole share.
    /// - `Refunded`: the remainder went back to the payer after the deadline.
    /// - `Resolved`: the arbiter split what was held among the payees and the payer.
    enum State {
        None,
        Funded,
        Disputed,
        Released,
        Refunded,
        Resolved
    }

    /// @notice What a payer agrees to when creating an escrow.
    /// @param token ERC-20 token escrowed (no fee-on-transfer or rebasing tokens).
    /// @param payees Payee accounts, 1 to `MAX_PAYEES`, neither zero nor this contract; addressed
    /// by index afterwards (the same account may appear more than once).
    /// @param shares Amount per payee (gross, before the platform fee), same length as `payees`.
    /// @param arbiter Resolves disputes; must be non-zero.
    /// @param evaluator May release, like the payer (e.g. who confirms completion); may be zero.
    /// @param deadline Unix time (seconds) after which the remainder may be refunded.
    /// @param atomic If true, only `releaseAll` releases: every payee is paid or none.
    /// @param termsHash Hash of the off-chain terms of the task, recorded as is.
    struct Terms {
        address token;
        address[] payees;
        uint256[] shares;
        address arbiter;
        address evaluator;
        uint64 deadline;
        bool atomic;
        bytes32 termsHash;
    }

    /// @notice Everything stored about an escrow except its payees (see `getPayees`).
    /// @param amount Total funded (the sum of the shares).
    /// @param held What the escrow still holds.
    /// @param feeBps Platform fee in basis points, fixed when the escrow was created.
    struct EscrowInfo {
        State state;
        address token;
        address payer;
        address arbiter;
        address evaluator;
        uint64 deadline;
        uint16 feeBps;
        bool atomic;
        bytes32 termsHash;
        uint256 amount;
        uint256 held;
        uint256 payeeCount;
    }

    /// @notice Escrow `id` was created for task `taskId` of `payer` (so
    /// `id == escrowId(payer, taskId)`) and funded with `amount` of `token` by `payer`.
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

    /// @notice `payee` of escrow `id` was paid `amount`; `fee` more went to the fee recipient.
    /// The payee's share shrank by `amount + fee`. Also emitted for the payees' part of a resolution.
    event Released(bytes32 indexed id, address indexed payee, uint256 amount, uint256 fee);

    /// @notice The remaining `amount` of escrow `id` went back to `payer` after the deadline.
    event Refunded(bytes32 indexed id, address indexed payer, uint256 amount);

    /// @notice Escrow `id` was frozen by `by` (the payer or a payee).
    event Disputed(bytes32 indexed id, address indexed by);

    /// @notice The arbiter resolved escrow `id`: `toPayer` went back to the payer; the payees'
    /// parts were announced by `Released` events in the same transaction.
    event Resolved(bytes32 indexed id, address indexed arbiter, uint256 toPayer);

    /// @notice The fee for escrows created from now on became `feeBps` basis points.
    event FeeBpsSet(uint16 feeBps);

    /// @notice Fees are paid to `feeRecipient` from now on.
    event FeeRecipientSet(address indexed feeRecipient);

    /// @notice An escrow already exists under `id` (whatever its state): the caller already used
    /// this task id.
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

    /// @notice The arbiter of escrow `id` would be the zero address.
    error EscrowInvalidArbiter(bytes32 id, address arbiter);

    /// @notice `deadline` is not in the future.
    error EscrowInvalidDeadline(bytes32 id, uint64 deadline);

    /// @notice Funding moved `received` instead of `expected` into the contract (fee-on-transfer
    /// or otherwise non-standard token).
    error EscrowTransferMismatch(bytes32 id, uint256 expected, uint256 received);

    /// @notice A release of zero.
    error EscrowZeroAmount(bytes32 id);

    /// @notice `amount` exceeds the `remaining` share of payee `index`.
    error EscrowExceedsShare(bytes32 id, uint256 index, uint256 amount, uint256 remaining);

    /// @notice Escrow `id` is atomic: only `releaseAll` may release.
    error EscrowAtomicOnly(bytes32 id);

    /// @notice The deadline of escrow `id` has not passed at time `timestamp`.
    error EscrowDeadlineNotReached(bytes32 id, uint64 deadline, uint256 timestamp);

    /// @notice The split does not add up exactly to the `held` amount of escrow `id`.
    error EscrowInvalidSplit(bytes32 id, uint256 held);

    /// @notice `feeBps` exceeds the maximum `maxFeeBps`.
    error EscrowFeeTooHigh(uint256 feeBps, uint256 maxFeeBps);

    /// @notice The fee recipient would be the zero address or this contract.
    error EscrowInvalidFeeRecipient(address feeRecipient);

    /// @notice Creates the escrow for the caller's (the payer's) task `taskId` from `terms` and
    /// pulls the sum of the shares from the caller, who must have approved this contract for it.
    /// The escrow is stored under `id = escrowId(msg.sender, taskId)`, which is returned; every
    /// other function takes that id. Reverts with `EscrowAlreadyExists(id)` if the caller used
    /// `taskId` before (in any state), so a retried create never funds twice; another account
    /// using the same `taskId` gets a different id and cannot block the caller. Errors about the
    /// terms carry `id`. Emits `Created`.
    function create(bytes32 taskId, Terms calldata terms) external returns (bytes32 id);

    /// @notice Like `create`, but first applies the caller's EIP-2612 permit for the sum of the
    /// shares with `permitDeadline`, `v`, `r`, `s`. If the permit fails (e.g. someone already
    /// submitted it), creation still succeeds when the allowance suffices. Returns the escrow id,
    /// `escrowId(msg.sender, taskId)`.
    function createWithPermit(
        bytes32 taskId,
        Terms calldata terms,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 id);

    /// @notice Releases `amount` of the share of payee `index` of escrow `id`: the payee gets
    /// `amount - fee`, the fee recipient `fee`. Payer or evaluator only, per-payee escrows only.
    /// The escrow becomes `Released` when every share has been released. Emits `Released`.
    function release(bytes32 id, uint256 index, uint256 amount) external;

    /// @notice Releases every payee's whole remaining share of escrow `id` at once and closes it
    /// as `Released`. Payer or evaluator only. Emits `Released` per payee with something left.
    function releaseAll(bytes32 id) external;

    /// @notice After the deadline, returns what escrow `id` holds to its payer. Anyone may call;
    /// the funds always go to the payer. Emits `Refunded`.
    function refund(bytes32 id) external;

    /// @notice Freezes escrow `id` until its arbiter resolves it. Payer or a payee only.
    /// Emits `Disputed`.
    function dispute(bytes32 id) external;

    /// @notice Resolves the disputed escrow `id`: payee `i` gets `payeeAmounts[i]` of its
    /// remaining share (minus the fee), the payer `payerAmount`; together exactly what is held.
    /// Arbiter only. Emits `Released` per paid payee, then `Resolved`.
    function resolve(bytes32 id, uint256[] calldata payeeAmounts, uint256 payerAmount) external;

    /// @notice Sets the fee, in basis points, for escrows created from now on (at most
    /// `MAX_FEE_BPS`). Fee manager role only. Emits `FeeBpsSet`.
    function setFeeBps(uint16 newFeeBps) external;

    /// @notice Sets who receives fees from now on (neither zero nor this contract). Fee manager
    /// role only.
    /// Emits `FeeRecipientSet`.
    function setFeeRecipient(address newFeeRecipient) external;

    /// @notice The id under which `payer`'s escrow for task `taskId` is (or would be) stored:
    /// `keccak256(abi.encode(payer, taskId))`, i.e. the hash of the two 32-byte words `payer`
    /// (left-padded with zeros) and `taskId`. Clients may compute it before sending the create.
    /// Neither the chain id nor this contract's address is part of it: ids are unique within one
    /// TaskEscrow deployment, so off-chain records key escrows by (chain id, contract, id).
    function escrowId(address payer, bytes32 taskId) external pure returns (bytes32);

    /// @notice The fee in basis points that an escrow created now would carry.
    function feeBps() external view returns (uint16);

    /// @notice Who receives fees.
    function feeRecipient() external view returns (address);

    /// @notice Escrow `id` (all zero with state `None` if it does not exist).
    function getEscrow(bytes32 id) external view returns (EscrowInfo memory);

    /// @notice Payees of escrow `id`, by index: account, share and how much of the share has been
    /// released so far (including the fee taken from it).
    function getPayees(bytes32 id)
        external
        view
        returns (address[] memory accounts, uint256[] memory shares, uint256[] memory released);
}
