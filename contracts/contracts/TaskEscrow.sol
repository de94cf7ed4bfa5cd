// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ITaskEscrow} from "./interfaces/ITaskEscrow.sol";

/// @title TaskEscrow
/// @notice Per-task ERC-20 escrows with per-payee or atomic release, refund after a deadline,
/// disputes resolved by an arbiter, and a platform fee fixed per escrow at creation.
/// @dev Every external mutating function checks the escrow's state first, then the caller and
/// arguments, then writes storage and emits events, and only then moves tokens.
contract TaskEscrow is ITaskEscrow, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role that may set the fee and the fee recipient.
    bytes32 public constant FEE_MANAGER_ROLE = keccak256("FEE_MANAGER_ROLE");

    /// @notice Upper bound on payees per escrow (bounds every loop over payees).
    uint256 public constant MAX_PAYEES = 16;

    /// @notice Upper bound on the platform fee: 1,000 basis points = 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;

    uint256 private constant _BPS = 10_000;

    struct Payee {
        address account;
        uint256 share;
        uint256 released;
    }

    struct Escrow {
        // slot 0
        address token;
        uint64 deadline;
        uint16 feeBps;
        State state;
        bool atomic;
        // slot 1
        address payer;
        uint8 payeeCount;
        // slots 2..5
        address arbiter;
        address evaluator;
        bytes32 termsHash;
        uint256 held;
        mapping(uint256 index => Payee) payees;
    }

    mapping(bytes32 id => Escrow) private _escrows;

    uint16 private _feeBps;
    address private _feeRecipient;

    /// @param admin Gets the default admin role and the fee manager role.
    /// @param initialFeeRecipient Receives fees; non-zero.
    /// @param initialFeeBps Fee for new escrows, at most `MAX_FEE_BPS`.
    constructor(address admin, address initialFeeRecipient, uint16 initialFeeBps) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(FEE_MANAGER_ROLE, admin);
        _setFeeRecipient(initialFeeRecipient);
        _setFeeBps(initialFeeBps);
    }

    /// @inheritdoc ITaskEscrow
    function create(bytes32 taskId, Terms calldata terms) external nonReentrant returns (bytes32 id) {
        uint256 amount;
        (id, amount) = _create(taskId, terms);
        _pull(id, IERC20(terms.token), amount);
    }

    /// @inheritdoc ITaskEscrow
    function createWithPermit(
        bytes32 taskId,
        Terms calldata terms,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (bytes32 id) {
        uint256 amount;
        (id, amount) = _create(taskId, terms);
        try IERC20Permit(terms.token).permit(msg.sender, address(this), amount, permitDeadline, v, r, s) {
            // The allowance is set.
        } catch {
            // A permit submitted by someone else first (front-running) makes this call revert;
            // the allowance it set is still there, so go on and let the transfer decide.
        }
        _pull(id, IERC20(terms.token), amount);
    }

    /// @inheritdoc ITaskEscrow
    function release(bytes32 id, uint256 index, uint256 amount) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Funded);
        _requireReleaser(id, e);
        if (e.atomic) revert EscrowAtomicOnly(id);
        if (index >= e.payeeCount) revert EscrowInvalidPayee(id, index);
        if (amount == 0) revert EscrowZeroAmount(id);
        Payee storage p = e.payees[index];
        uint256 remaining = p.share - p.released;
        if (amount > remaining) revert EscrowExceedsShare(id, index, amount, remaining);

        // amount <= remaining share <= held: neither line can overflow or underflow.
        unchecked {
            p.released += amount;
            e.held -= amount;
        }
        if (e.held == 0) e.state = State.Released;
        uint256 fee = Math.mulDiv(amount, e.feeBps, _BPS);
        address account = p.account;
        // fee <= amount because feeBps <= _BPS.
        uint256 net;
        unchecked {
            net = amount - fee;
        }
        emit Released(id, account, net, fee);

        IERC20 token = IERC20(e.token);
        if (net > 0) token.safeTransfer(account, net);
        if (fee > 0) token.safeTransfer(_feeRecipient, fee);
    }

    /// @inheritdoc ITaskEscrow
    function releaseAll(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Funded);
        _requireReleaser(id, e);

        uint256 count = e.payeeCount;
        uint256[] memory payouts = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            Payee storage p = e.payees[i];
            uint256 share = p.share;
            // released <= share always holds.
            unchecked {
                payouts[i] = share - p.released;
            }
            if (payouts[i] != 0) p.released = share;
        }
        e.held = 0;
        e.state = State.Released;
        (address[] memory accounts, uint256[] memory nets, uint256 fees) = _recordPayouts(id, e, payouts);

        _transferPayouts(IERC20(e.token), accounts, nets, fees);
    }

    /// @inheritdoc ITaskEscrow
    function refund(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Funded);
        if (block.timestamp <= e.deadline) revert EscrowDeadlineNotReached(id, e.deadline, block.timestamp);

        uint256 amount = e.held;
        address payer = e.payer;
        e.held = 0;
        e.state = State.Refunded;
        emit Refunded(id, payer, amount);

        IERC20(e.token).safeTransfer(payer, amount);
    }

    /// @inheritdoc ITaskEscrow
    function dispute(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Funded);
        if (msg.sender != e.payer && !_isPayee(e, msg.sender)) revert EscrowUnauthorized(id, msg.sender);

        e.state = State.Disputed;
        emit Disputed(id, msg.sender);
    }

    /// @inheritdoc ITaskEscrow
    function resolve(bytes32 id, uint256[] calldata payeeAmounts, uint256 payerAmount) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Disputed);
        if (msg.sender != e.arbiter) revert EscrowUnauthorized(id, msg.sender);
        uint256 count = e.payeeCount;
        if (payeeAmounts.length != count) revert EscrowLengthMismatch(id, count, payeeAmounts.length);

        uint256 held = e.held;
        uint256 left = held;
        for (uint256 i = 0; i < count; ++i) {
            uint256 amount = payeeAmounts[i];
            Payee storage p = e.payees[i];
            uint256 remaining = p.share - p.released;
            if (amount > remaining) revert EscrowExceedsShare(id, i, amount, remaining);
            if (amount > left) revert EscrowInvalidSplit(id, held);
            // amount <= left (checked above) and amount <= remaining share.
            unchecked {
                left -= amount;
                p.released += amount;
            }
        }
        if (left != payerAmount) revert EscrowInvalidSplit(id, held);

        e.held = 0;
        e.state = State.Resolved;
        (address[] memory accounts, uint256[] memory nets, uint256 fees) = _recordPayouts(id, e, payeeAmounts);
        emit Resolved(id, msg.sender, payerAmount);

        IERC20 token = IERC20(e.token);
        _transferPayouts(token, accounts, nets, fees);
        if (payerAmount > 0) token.safeTransfer(e.payer, payerAmount);
    }

    /// @inheritdoc ITaskEscrow
    function setFeeBps(uint16 newFeeBps) external onlyRole(FEE_MANAGER_ROLE) {
        _setFeeBps(newFeeBps);
    }

    /// @inheritdoc ITaskEscrow
    function setFeeRecipient(address newFeeRecipient) external onlyRole(FEE_MANAGER_ROLE) {
        _setFeeRecipient(newFeeRecipient);
    }

    /// @inheritdoc ITaskEscrow
    function escrowId(address payer, bytes32 taskId) public pure returns (bytes32) {
        return keccak256(abi.encode(payer, taskId));
    }

    /// @inheritdoc ITaskEscrow
    function feeBps() external view returns (uint16) {
        return _feeBps;
    }

    /// @inheritdoc ITaskEscrow
    function feeRecipient() external view returns (address) {
        return _feeRecipient;
    }

    /// @inheritdoc ITaskEscrow
    function getEscrow(bytes32 id) external view returns (EscrowInfo memory info) {
        Escrow storage e = _escrows[id];
        uint256 count = e.payeeCount;
        uint256 amount = 0;
        for (uint256 i = 0; i < count; ++i) {
            amount += e.payees[i].share;
        }
        info = EscrowInfo({
            state: e.state,
            token: e.token,
            payer: e.payer,
            arbiter: e.arbiter,
            evaluator: e.evaluator,
            deadline: e.deadline,
            feeBps: e.feeBps,
            atomic: e.atomic,
            termsHash: e.termsHash,
            amount: amount,
            held: e.held,
            payeeCount: count
        });
    }

    /// @inheritdoc ITaskEscrow
    function getPayees(bytes32 id)
        external
        view
        returns (address[] memory accounts, uint256[] memory shares, uint256[] memory released)
    {
        Escrow storage e = _escrows[id];
        uint256 count = e.payeeCount;
        accounts = new address[](count);
        shares = new uint256[](count);
        released = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            Payee storage p = e.payees[i];
            accounts[i] = p.account;
            shares[i] = p.share;
            released[i] = p.released;
        }
    }

    /// @dev Derives the id of the caller's task `taskId`, validates `terms`, stores the escrow as
    /// `Funded` and emits `Created`; returns the id and the amount to pull. Tokens move
    /// afterwards, in `_pull`.
    function _create(bytes32 taskId, Terms calldata terms) private returns (bytes32 id, uint256 amount) {
        id = escrowId(msg.sender, taskId);
        Escrow storage e = _escrows[id];
        if (e.state != State.None) revert EscrowAlreadyExists(id);
        if (terms.token == address(0)) revert EscrowInvalidToken(id, terms.token);
        uint256 count = terms.payees.length;
        if (count == 0 || count > MAX_PAYEES) revert EscrowInvalidPayeeCount(id, count);
        if (terms.shares.length != count) revert EscrowLengthMismatch(id, count, terms.shares.length);
        if (terms.arbiter == address(0)) revert EscrowInvalidArbiter(id, terms.arbiter);
        if (terms.deadline <= block.timestamp) revert EscrowInvalidDeadline(id, terms.deadline);

        for (uint256 i = 0; i < count; ++i) {
            address account = terms.payees[i];
            uint256 share = terms.shares[i];
            if (account == address(0) || account == address(this)) revert EscrowInvalidPayee(id, i);
            if (share == 0) revert EscrowZeroShare(id, i);
            if (share > type(uint256).max - amount) revert EscrowAmountOverflow(id, i);
            // share <= max - amount (checked above).
            unchecked {
                amount += share;
            }
            Payee storage p = e.payees[i];
            p.account = account;
            p.share = share;
        }

        uint16 fee = _feeBps;
        e.token = terms.token;
        e.deadline = terms.deadline;
        e.feeBps = fee;
        e.state = State.Funded;
        e.atomic = terms.atomic;
        e.payer = msg.sender;
        // count <= MAX_PAYEES (16) fits in uint8.
        e.payeeCount = uint8(count);
        e.arbiter = terms.arbiter;
        e.evaluator = terms.evaluator;
        e.termsHash = terms.termsHash;
        e.held = amount;
        emit Created(
            id, msg.sender, terms.token, taskId, amount, fee, terms.deadline, terms.atomic, terms.termsHash
        );
    }

    /// @dev Pulls `amount` from the caller and checks that exactly `amount` arrived.
    function _pull(bytes32 id, IERC20 token, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 after_ = token.balanceOf(address(this));
        // A token whose balance fell during the transfer counts as having delivered nothing.
        uint256 received = after_ < before ? 0 : after_ - before;
        if (received != amount) revert EscrowTransferMismatch(id, amount, received);
    }

    /// @dev Splits each non-zero `gross[i]` into the payee's net amount and the fee (at the
    /// escrow's fee rate) and emits `Released` for it. Storage is already final; tokens move
    /// afterwards, in `_transferPayouts`.
    function _recordPayouts(bytes32 id, Escrow storage e, uint256[] memory gross)
        private
        returns (address[] memory accounts, uint256[] memory nets, uint256 fees)
    {
        uint256 count = gross.length;
        uint16 bps = e.feeBps;
        accounts = new address[](count);
        nets = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 amount = gross[i];
            if (amount == 0) continue;
            uint256 fee = Math.mulDiv(amount, bps, _BPS);
            address account = e.payees[i].account;
            // fee <= amount (bps <= _BPS); the fees sum to at most the sum of the gross amounts,
            // which is at most what the escrow held.
            unchecked {
                nets[i] = amount - fee;
                fees += fee;
            }
            accounts[i] = account;
            emit Released(id, account, nets[i], fee);
        }
    }

    /// @dev Pays `nets[i]` to `accounts[i]` and `fees` to the fee recipient.
    function _transferPayouts(IERC20 token, address[] memory accounts, uint256[] memory nets, uint256 fees) private {
        uint256 count = accounts.length;
        for (uint256 i = 0; i < count; ++i) {
            if (nets[i] > 0) token.safeTransfer(accounts[i], nets[i]);
        }
        if (fees > 0) token.safeTransfer(_feeRecipient, fees);
    }

    function _requireState(bytes32 id, Escrow storage e, State expected) private view {
        State actual = e.state;
        if (actual != expected) revert EscrowInvalidState(id, actual);
    }

    function _requireReleaser(bytes32 id, Escrow storage e) private view {
        if (msg.sender != e.payer && msg.sender != e.evaluator) revert EscrowUnauthorized(id, msg.sender);
    }

    function _isPayee(Escrow storage e, address account) private view returns (bool) {
        uint256 count = e.payeeCount;
        for (uint256 i = 0; i < count; ++i) {
            if (e.payees[i].account == account) return true;
        }
        return false;
    }

    function _setFeeBps(uint16 newFeeBps) private {
        if (newFeeBps > MAX_FEE_BPS) revert EscrowFeeTooHigh(newFeeBps, MAX_FEE_BPS);
        _feeBps = newFeeBps;
        emit FeeBpsSet(newFeeBps);
    }

    function _setFeeRecipient(address newFeeRecipient) private {
        if (newFeeRecipient == address(0) || newFeeRecipient == address(this)) {
            revert EscrowInvalidFeeRecipient(newFeeRecipient);
        }
        _feeRecipient = newFeeRecipient;
        emit FeeRecipientSet(newFeeRecipient);
    }
}
