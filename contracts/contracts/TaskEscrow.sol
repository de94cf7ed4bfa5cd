// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ITaskEscrow} from "./interfaces/ITaskEscrow.sol";

/// @title TaskEscrow
/// @notice Per-task ERC-20 escrows with payee consent, per-payee or atomic release, refund after a
/// deadline (payer first, then anyone), disputes with an arbiter deadline and a fallback fixed in
/// the terms, and a capped platform fee fixed per escrow at creation that accrues to a claimable
/// balance of the escrow's fee recipient.
/// @dev Every external mutating function checks the escrow's state first, then the caller, time
/// and arguments, then writes storage and emits events, and only then moves tokens.
contract TaskEscrow is ITaskEscrow, AccessControlDefaultAdminRules, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role that may set the fee and the fee recipient for future escrows.
    bytes32 public constant FEE_MANAGER_ROLE = keccak256("FEE_MANAGER_ROLE");

    /// @notice Upper bound on payees per escrow (bounds every loop over payees).
    uint256 public constant MAX_PAYEES = 16;

    /// @notice Upper bound on the platform fee: 1,000 basis points = 10%.
    uint16 public constant MAX_FEE_BPS = 1_000;

    /// @notice After the deadline, how long only the payer may refund (releases still win).
    uint256 public constant GRACE_PERIOD = 1 days;

    /// @notice How long the arbiter has to resolve a dispute before anyone may apply the fallback.
    uint256 public constant ARBITRATION_PERIOD = 7 days;

    /// @notice How far ahead of its creation an escrow's deadline may be.
    uint256 public constant MAX_DURATION = 365 days;

    /// @notice EIP-712 type of a payee's acceptance of its escrow's terms.
    bytes32 public constant ACCEPTANCE_TYPEHASH = keccak256(
        "Acceptance(bytes32 escrowId,uint256 index,address payee,address token,uint256 share,address arbiter,"
        "address evaluator,uint64 deadline,uint16 maxFeeBps,uint8 fallbackRule,bytes32 termsHash)"
    );

    uint256 private constant _BPS = 10_000;

    struct Payee {
        // slot 0
        address account;
        bool accepted;
        // slots 1, 2
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
        uint8 acceptedCount;
        Fallback fallbackRule;
        uint16 maxFeeBps;
        // slot 2
        address arbiter;
        uint64 arbitrationDeadline;
        // slots 3..6
        address evaluator;
        address feeRecipient;
        bytes32 termsHash;
        uint256 held;
        mapping(uint256 index => Payee) payees;
    }

    mapping(bytes32 id => Escrow) private _escrows;
    mapping(address token => mapping(address recipient => uint256)) private _feesOwed;

    uint16 private _feeBps;
    address private _feeRecipient;

    /// @param admin Gets the default admin role (transferable only in two steps after `adminDelay`).
    /// @param adminDelay Seconds between the start of an admin transfer and when it may be accepted.
    /// @param feeManager Gets the fee manager role.
    /// @param initialFeeRecipient Accrues the fees of escrows created until it is changed; non-zero.
    /// @param initialFeeBps Fee for new escrows, at most `MAX_FEE_BPS`.
    constructor(
        address admin,
        uint48 adminDelay,
        address feeManager,
        address initialFeeRecipient,
        uint16 initialFeeBps
    ) AccessControlDefaultAdminRules(adminDelay, _nonZero(DEFAULT_ADMIN_ROLE, admin)) EIP712("TaskEscrow", "1") {
        _grantRole(FEE_MANAGER_ROLE, _nonZero(FEE_MANAGER_ROLE, feeManager));
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
    function accept(bytes32 id, uint256 index) external nonReentrant {
        Escrow storage e = _escrows[id];
        Payee storage p = _acceptable(id, e, index);
        if (msg.sender != p.account) revert EscrowUnauthorized(id, msg.sender);
        _accept(id, e, p, index);
    }

    /// @inheritdoc ITaskEscrow
    function acceptWithSignature(bytes32 id, uint256 index, bytes calldata signature) external nonReentrant {
        Escrow storage e = _escrows[id];
        Payee storage p = _acceptable(id, e, index);
        // A view call into an ERC-1271 wallet at most; it cannot reenter (nonReentrant, staticcall).
        if (!SignatureChecker.isValidSignatureNow(p.account, _acceptanceDigest(id, e, index), signature)) {
            revert EscrowInvalidSignature(id, index);
        }
        _accept(id, e, p, index);
    }

    /// @inheritdoc ITaskEscrow
    function cancel(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Open);
        if (msg.sender != e.payer) revert EscrowUnauthorized(id, msg.sender);
        if (e.acceptedCount != 0) revert EscrowAccepted(id, e.acceptedCount);

        uint256 amount = e.held;
        e.held = 0;
        e.state = State.Rejected;
        emit Rejected(id, msg.sender, amount);

        IERC20(e.token).safeTransfer(msg.sender, amount);
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
        uint256 fee = Math.mulDiv(amount, e.feeBps, _BPS);
        address account = p.account;
        IERC20 token = IERC20(e.token);
        if (fee > 0) _feesOwed[address(token)][e.feeRecipient] += fee;
        // fee <= amount because feeBps <= _BPS.
        uint256 net;
        unchecked {
            net = amount - fee;
        }
        emit Released(id, account, net, fee);
        if (e.held == 0) {
            e.state = State.Completed;
            emit Completed(id);
        }

        if (net > 0) token.safeTransfer(account, net);
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
        e.state = State.Completed;
        (address[] memory accounts, uint256[] memory nets) = _recordPayouts(id, e, payouts);
        emit Completed(id);

        _transferPayouts(IERC20(e.token), accounts, nets);
    }

    /// @inheritdoc ITaskEscrow
    function refund(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        State state = e.state;
        if (state != State.Open && state != State.Funded) revert EscrowInvalidState(id, state);
        uint64 deadline = e.deadline;
        if (block.timestamp <= deadline) revert EscrowDeadlineNotReached(id, deadline, block.timestamp);
        address payer = e.payer;
        uint256 graceEnd = uint256(deadline) + GRACE_PERIOD;
        if (msg.sender != payer && block.timestamp <= graceEnd) {
            revert EscrowInGracePeriod(id, graceEnd, block.timestamp);
        }

        uint256 amount = e.held;
        e.held = 0;
        e.state = State.Expired;
        emit Expired(id, payer, amount);

        IERC20(e.token).safeTransfer(payer, amount);
    }

    /// @inheritdoc ITaskEscrow
    function dispute(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Funded);
        if (msg.sender != e.payer && !_isPayee(e, msg.sender)) revert EscrowUnauthorized(id, msg.sender);
        uint256 disputeEnd = uint256(e.deadline) + GRACE_PERIOD;
        if (block.timestamp > disputeEnd) revert EscrowDisputeClosed(id, disputeEnd, block.timestamp);

        // A timestamp plus 7 days fits 64 bits for the next 500 billion years.
        uint64 arbitrationDeadline = uint64(block.timestamp + ARBITRATION_PERIOD);
        e.state = State.Disputed;
        e.arbitrationDeadline = arbitrationDeadline;
        emit Disputed(id, msg.sender, arbitrationDeadline);
    }

    /// @inheritdoc ITaskEscrow
    function resolve(bytes32 id, uint256[] calldata payeeAmounts, uint256 payerAmount) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Disputed);
        if (msg.sender != e.arbiter) revert EscrowUnauthorized(id, msg.sender);
        uint64 arbitrationDeadline = e.arbitrationDeadline;
        if (block.timestamp > arbitrationDeadline) {
            revert EscrowArbitrationClosed(id, arbitrationDeadline, block.timestamp);
        }
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
        (address[] memory accounts, uint256[] memory nets) = _recordPayouts(id, e, payeeAmounts);
        emit Resolved(id, msg.sender, payerAmount);

        IERC20 token = IERC20(e.token);
        _transferPayouts(token, accounts, nets);
        if (payerAmount > 0) token.safeTransfer(e.payer, payerAmount);
    }

    /// @inheritdoc ITaskEscrow
    function applyFallback(bytes32 id) external nonReentrant {
        Escrow storage e = _escrows[id];
        _requireState(id, e, State.Disputed);
        uint64 arbitrationDeadline = e.arbitrationDeadline;
        if (block.timestamp <= arbitrationDeadline) {
            revert EscrowArbitrationOpen(id, arbitrationDeadline, block.timestamp);
        }

        Fallback rule = e.fallbackRule;
        uint256 count = e.payeeCount;
        uint256[] memory payouts = new uint256[](count);
        uint256 toPayer = e.held;
        if (rule != Fallback.RefundPayer) {
            for (uint256 i = 0; i < count; ++i) {
                Payee storage p = e.payees[i];
                uint256 remaining;
                // released <= share always holds.
                unchecked {
                    remaining = p.share - p.released;
                }
                // SplitEvenly rounds the payee's half down: the odd unit (dust) stays with the payer.
                uint256 amount = rule == Fallback.PayPayees ? remaining : remaining / 2;
                payouts[i] = amount;
                // amount <= remaining share, and the remaining shares sum to held (= toPayer at
                // the start), so toPayer never underflows; released + amount <= share.
                unchecked {
                    toPayer -= amount;
                    p.released += amount;
                }
            }
        }

        e.held = 0;
        e.state = State.Resolved;
        (address[] memory accounts, uint256[] memory nets) = _recordPayouts(id, e, payouts);
        emit FallbackApplied(id, msg.sender, rule, toPayer);

        IERC20 token = IERC20(e.token);
        _transferPayouts(token, accounts, nets);
        if (toPayer > 0) token.safeTransfer(e.payer, toPayer);
    }

    /// @inheritdoc ITaskEscrow
    function claimFees(address token, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0) || to == address(this)) revert EscrowInvalidClaimRecipient(to);
        amount = _feesOwed[token][msg.sender];
        if (amount == 0) revert EscrowNothingToClaim(token, msg.sender);
        _feesOwed[token][msg.sender] = 0;
        emit FeesClaimed(msg.sender, token, to, amount);

        IERC20(token).safeTransfer(to, amount);
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
    function acceptanceDigest(bytes32 id, uint256 index) external view returns (bytes32) {
        Escrow storage e = _escrows[id];
        if (e.state == State.None) revert EscrowInvalidState(id, State.None);
        if (index >= e.payeeCount) revert EscrowInvalidPayee(id, index);
        return _acceptanceDigest(id, e, index);
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
    function feesOwed(address token, address recipient) external view returns (uint256) {
        return _feesOwed[token][recipient];
    }

    /// @inheritdoc ITaskEscrow
    function getEscrow(bytes32 id) external view returns (EscrowInfo memory info) {
        Escrow storage e = _escrows[id];
        uint256 count = e.payeeCount;
        uint256 amount = 0;
        for (uint256 i = 0; i < count; ++i) {
            amount += e.payees[i].share;
        }
        info.state = e.state;
        info.token = e.token;
        info.payer = e.payer;
        info.arbiter = e.arbiter;
        info.evaluator = e.evaluator;
        info.deadline = e.deadline;
        info.feeBps = e.feeBps;
        info.maxFeeBps = e.maxFeeBps;
        info.fallbackRule = e.fallbackRule;
        info.atomic = e.atomic;
        info.termsHash = e.termsHash;
        info.feeRecipient = e.feeRecipient;
        info.amount = amount;
        info.held = e.held;
        info.payeeCount = count;
        info.acceptedCount = e.acceptedCount;
        info.arbitrationDeadline = e.arbitrationDeadline;
    }

    /// @inheritdoc ITaskEscrow
    function getPayees(bytes32 id)
        external
        view
        returns (address[] memory accounts, uint256[] memory shares, uint256[] memory released, bool[] memory accepted)
    {
        Escrow storage e = _escrows[id];
        uint256 count = e.payeeCount;
        accounts = new address[](count);
        shares = new uint256[](count);
        released = new uint256[](count);
        accepted = new bool[](count);
        for (uint256 i = 0; i < count; ++i) {
            Payee storage p = e.payees[i];
            accounts[i] = p.account;
            shares[i] = p.share;
            released[i] = p.released;
            accepted[i] = p.accepted;
        }
    }

    /// @dev Derives the id of the caller's task `taskId`, validates `terms`, stores the escrow as
    /// `Open` and emits `Created`; returns the id and the amount to pull. Tokens move afterwards,
    /// in `_pull`.
    function _create(bytes32 taskId, Terms calldata terms) private returns (bytes32 id, uint256 amount) {
        id = escrowId(msg.sender, taskId);
        Escrow storage e = _escrows[id];
        if (e.state != State.None) revert EscrowAlreadyExists(id);
        if (terms.token == address(0)) revert EscrowInvalidToken(id, terms.token);
        uint256 count = terms.payees.length;
        if (count == 0 || count > MAX_PAYEES) revert EscrowInvalidPayeeCount(id, count);
        if (terms.shares.length != count) revert EscrowLengthMismatch(id, count, terms.shares.length);
        address arbiter = terms.arbiter;
        if (arbiter == address(0) || arbiter == address(this) || arbiter == msg.sender) {
            revert EscrowInvalidArbiter(id, arbiter);
        }
        if (terms.evaluator == address(0) || terms.evaluator == address(this)) {
            revert EscrowInvalidEvaluator(id, terms.evaluator);
        }
        if (terms.deadline <= block.timestamp || terms.deadline > block.timestamp + MAX_DURATION) {
            revert EscrowInvalidDeadline(id, terms.deadline);
        }
        uint16 fee = _feeBps;
        if (fee > terms.maxFeeBps) revert EscrowFeeAboveMax(id, fee, terms.maxFeeBps);

        for (uint256 i = 0; i < count; ++i) {
            address account = terms.payees[i];
            uint256 share = terms.shares[i];
            if (account == address(0) || account == address(this)) revert EscrowInvalidPayee(id, i);
            if (account == arbiter) revert EscrowInvalidArbiter(id, arbiter);
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

        e.token = terms.token;
        e.deadline = terms.deadline;
        e.feeBps = fee;
        e.state = State.Open;
        e.atomic = terms.atomic;
        e.payer = msg.sender;
        // count <= MAX_PAYEES (16) fits in uint8.
        e.payeeCount = uint8(count);
        e.fallbackRule = terms.fallbackRule;
        e.maxFeeBps = terms.maxFeeBps;
        e.arbiter = arbiter;
        e.evaluator = terms.evaluator;
        e.feeRecipient = _feeRecipient;
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

    /// @dev Checks that payee `index` of escrow `id` may still accept, and returns it.
    function _acceptable(bytes32 id, Escrow storage e, uint256 index) private view returns (Payee storage p) {
        _requireState(id, e, State.Open);
        if (block.timestamp > e.deadline) revert EscrowDeadlinePassed(id, e.deadline, block.timestamp);
        if (index >= e.payeeCount) revert EscrowInvalidPayee(id, index);
        p = e.payees[index];
        if (p.accepted) revert EscrowAlreadyAccepted(id, index);
    }

    /// @dev Records the acceptance of payee `index`; the last one makes the escrow `Funded`.
    function _accept(bytes32 id, Escrow storage e, Payee storage p, uint256 index) private {
        p.accepted = true;
        // acceptedCount < payeeCount <= 16: each payee index is counted once (accepted checked).
        uint8 accepted;
        unchecked {
            accepted = e.acceptedCount + 1;
        }
        e.acceptedCount = accepted;
        emit Accepted(id, p.account, index);
        if (accepted == e.payeeCount) {
            e.state = State.Funded;
            emit Funded(id);
        }
    }

    /// @dev EIP-712 digest of payee `index`'s `Acceptance` of escrow `id`. The struct's words are
    /// hashed as two `abi.encode` halves concatenated, which is byte for byte `abi.encode` of all
    /// eleven (all static types), and keeps the stack shallow.
    function _acceptanceDigest(bytes32 id, Escrow storage e, uint256 index) private view returns (bytes32) {
        Payee storage p = e.payees[index];
        bytes memory head = abi.encode(ACCEPTANCE_TYPEHASH, id, index, p.account, e.token, p.share);
        bytes memory tail =
            abi.encode(e.arbiter, e.evaluator, e.deadline, e.maxFeeBps, uint8(e.fallbackRule), e.termsHash);
        return _hashTypedDataV4(keccak256(bytes.concat(head, tail)));
    }

    /// @dev Splits each non-zero `gross[i]` into the payee's net amount and the fee (at the
    /// escrow's fee rate), emits `Released` for it and accrues the fees to the escrow's fee
    /// recipient. Storage is final afterwards; tokens move in `_transferPayouts`.
    function _recordPayouts(bytes32 id, Escrow storage e, uint256[] memory gross)
        private
        returns (address[] memory accounts, uint256[] memory nets)
    {
        uint256 count = gross.length;
        uint16 bps = e.feeBps;
        uint256 fees;
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
        if (fees > 0) _feesOwed[e.token][e.feeRecipient] += fees;
    }

    /// @dev Pays `nets[i]` to `accounts[i]`.
    function _transferPayouts(IERC20 token, address[] memory accounts, uint256[] memory nets) private {
        uint256 count = accounts.length;
        for (uint256 i = 0; i < count; ++i) {
            if (nets[i] > 0) token.safeTransfer(accounts[i], nets[i]);
        }
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

    /// @dev Every role grant (the constructor's and the admin's later ones) refuses the zero address.
    function _grantRole(bytes32 role, address account) internal override returns (bool) {
        _nonZero(role, account);
        return super._grantRole(role, account);
    }

    /// @dev Returns `account`, refusing the zero address for `role`.
    function _nonZero(bytes32 role, address account) private pure returns (address) {
        if (account == address(0)) revert EscrowInvalidRoleHolder(role, account);
        return account;
    }
}
