// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ISettlementVault} from "./interfaces/ISettlementVault.sol";

/// @title SettlementVault
/// @notice ERC-20 custody and netted batch settlement for the off-chain ledger. See
/// {ISettlementVault} for the batch encoding and docs/vault.md for the design.
/// @dev Gas layout: the batch bookkeeping (last batch id, last settlement time, id counters,
/// pause flag) shares one slot; settled balances are 85-bit thirds of a slot keyed by
/// (tokenId, (accountId - 1) / 3), so accounts 3k+1, 3k+2 and 3k+3 of a token share one slot.
/// A batch among 20 accounts thus writes 7 cold slots instead of 20.
contract SettlementVault is ISettlementVault, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to settle batches.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    /// @notice Upper bound on deltas plus payouts in one batch.
    uint256 public constant MAX_BATCH_ENTRIES = 1_024;

    /// @notice Upper bound on payouts in one batch (each is an external token call).
    uint256 public constant MAX_BATCH_PAYOUTS = 64;

    /// @notice Upper bound on token sections in one batch.
    uint256 public constant MAX_BATCH_TOKENS = 32;

    /// @notice Upper bound on the accounts one `registerAccounts` call names.
    uint256 public constant MAX_REGISTER_ACCOUNTS = 256;

    /// @notice Gas forwarded to the token for one payout push; a push that needs more is deferred.
    uint256 public constant PAYOUT_GAS = 100_000;

    /// @notice Upper bound on the escape delay.
    uint256 public constant MAX_ESCAPE_DELAY = 365 days;

    /// @notice Largest settled balance of one account in one token: 2^85 - 1 base units (three
    /// balances share a storage slot).
    uint256 public constant MAX_BALANCE = (1 << 85) - 1;
    uint256 private constant AMOUNT_MASK = type(uint128).max;
    uint256 private constant DEBIT_FLAG = 1 << 31;
    /// @dev No balance slot has this key (keys are below 2^64).
    uint256 private constant NO_KEY = type(uint256).max;
    uint256 private constant ACCOUNT_MASK = DEBIT_FLAG - 1;
    uint256 private constant SECTION_HEADER_BYTES = 8;
    uint256 private constant DELTA_BYTES = 20;
    uint256 private constant PAYOUT_BYTES = 40;

    /// @dev The batch bookkeeping, one storage slot.
    struct State {
        uint64 lastBatchId;
        uint64 lastSettledAt;
        uint32 accountCount;
        uint32 tokenCount;
        bool paused;
    }

    /// @inheritdoc ISettlementVault
    uint256 public immutable escapeDelay;

    State private _state;
    mapping(address account => uint32) private _accountIds;
    mapping(uint32 accountId => address) private _accounts;
    mapping(address token => uint32) private _tokenIds;
    mapping(uint32 tokenId => address) private _tokens;
    /// @dev key (tokenId << 32 | (accountId - 1) / 3) => three 85-bit balances; account 3k+1 in the
    /// lowest bits, 3k+3 in the highest.
    mapping(uint256 key => uint256) private _balanceSlots;
    mapping(address token => mapping(address recipient => uint256)) private _pendingPayouts;

    constructor(address admin, address operator, uint256 escapeDelay_) {
        if (admin == address(0)) revert VaultInvalidRoleHolder(admin);
        if (operator == address(0)) revert VaultInvalidRoleHolder(operator);
        if (escapeDelay_ == 0 || escapeDelay_ > MAX_ESCAPE_DELAY) revert VaultInvalidEscapeDelay(escapeDelay_);
        escapeDelay = escapeDelay_;
        _state.lastSettledAt = uint64(block.timestamp);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, operator);
    }

    // ---------------------------------------------------------------- deposits

    /// @inheritdoc ISettlementVault
    function deposit(address token, uint256 amount) external nonReentrant {
        _deposit(token, msg.sender, amount);
    }

    /// @inheritdoc ISettlementVault
    function depositWithPermit(address token, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        try IERC20Permit(token).permit(msg.sender, address(this), amount, deadline, v, r, s) {
            // the allowance is set
        } catch {
            // A front-runner may have used the permit already; the allowance check in
            // transferFrom decides whether the deposit goes through.
        }
        _deposit(token, msg.sender, amount);
    }

    function _deposit(address token, address account, uint256 amount) private {
        if (amount == 0) revert VaultZeroAmount();
        State memory state = _state;
        if (state.paused) revert VaultPaused();
        bool registered;
        uint32 tokenId = _tokenIds[token];
        if (tokenId == 0) {
            if (state.tokenCount == type(uint32).max) revert VaultIdsExhausted();
            tokenId = ++state.tokenCount;
            _tokenIds[token] = tokenId;
            _tokens[tokenId] = token;
            registered = true;
            emit TokenRegistered(token, tokenId);
        }
        uint32 accountId = _accountIds[account];
        if (accountId == 0) {
            accountId = _registerAccount(state, account);
            registered = true;
        }
        if (registered) _state = state;

        (uint256 key, uint256 shift) = _balanceSlot(tokenId, accountId);
        uint256 packed = _balanceSlots[key];
        uint256 balance = (packed >> shift) & MAX_BALANCE;
        if (amount > MAX_BALANCE - balance) revert VaultBalanceOverflow(token, account, balance, amount);
        // balance + amount <= 2^85 - 1, so the sum stays inside its third of the slot
        _balanceSlots[key] = packed + (amount << shift);
        emit Deposited(token, account, accountId, tokenId, amount, balance + amount);

        IERC20(token).safeTransferFrom(account, address(this), amount);
    }

    /// @dev Gives `account` the next account id, counted in `state` (the caller stores it).
    function _registerAccount(State memory state, address account) private returns (uint32 accountId) {
        if (state.accountCount == ACCOUNT_MASK) revert VaultIdsExhausted();
        accountId = ++state.accountCount;
        _accountIds[account] = accountId;
        _accounts[accountId] = account;
        emit AccountRegistered(account, accountId);
    }

    /// @inheritdoc ISettlementVault
    function registerAccounts(address[] calldata accounts)
        external
        onlyRole(OPERATOR_ROLE)
        returns (uint256 registered)
    {
        if (accounts.length > MAX_REGISTER_ACCOUNTS) {
            revert VaultTooManyAccounts(accounts.length, MAX_REGISTER_ACCOUNTS);
        }
        State memory state = _state;
        if (state.paused) revert VaultPaused();
        for (uint256 i; i < accounts.length; ++i) {
            address account = accounts[i];
            if (account == address(0)) revert VaultInvalidAccount(account);
            if (_accountIds[account] == 0) {
                _registerAccount(state, account);
                ++registered;
            }
        }
        if (registered != 0) _state = state;
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc ISettlementVault
    function settleBatch(uint64 batchId, bytes32 merkleRoot, bytes calldata batch)
        external
        nonReentrant
        onlyRole(OPERATOR_ROLE)
    {
        State memory state = _state;
        if (state.paused) revert VaultPaused();
        uint64 expected = state.lastBatchId + 1;
        if (batchId != expected) revert VaultBatchIdMismatch(expected, batchId);
        state.lastBatchId = batchId;
        state.lastSettledAt = uint64(block.timestamp);
        _state = state;

        (uint256 entries, uint256 payouts) = _applyBatch(batch, state.accountCount, state.tokenCount);
        emit BatchSettled(batchId, merkleRoot, entries);
        if (payouts != 0) _pushPayouts(batchId, batch);
    }

    /// @dev Validates the batch and applies every delta and payout debit. Returns the number of
    /// entries and of payouts.
    function _applyBatch(bytes calldata batch, uint256 accountCount, uint256 tokenCount)
        private
        returns (uint256 entries, uint256 payouts)
    {
        uint256 base;
        assembly ("memory-safe") {
            base := batch.offset
        }
        uint256 end = batch.length;
        uint256 offset;
        // unchecked: offsets stay <= batch.length (checked before every read); entries and payouts
        // are sums of at most 32 uint16 counts.
        unchecked {
            for (uint256 section; offset < end; ++section) {
                if (section == MAX_BATCH_TOKENS) revert VaultBatchTooLarge(section + 1, MAX_BATCH_TOKENS);
                if (end - offset < SECTION_HEADER_BYTES) revert VaultMalformedBatch(offset);
                uint256 header;
                assembly ("memory-safe") {
                    header := shr(192, calldataload(add(base, offset)))
                }
                if ((header >> 32) == 0 || (header >> 32) > tokenCount) revert VaultUnknownToken(header >> 32);
                entries += ((header >> 16) & 0xffff) + (header & 0xffff);
                if (entries > MAX_BATCH_ENTRIES) revert VaultBatchTooLarge(entries, MAX_BATCH_ENTRIES);
                payouts += header & 0xffff;
                if (payouts > MAX_BATCH_PAYOUTS) revert VaultTooManyPayouts(payouts, MAX_BATCH_PAYOUTS);
                offset += SECTION_HEADER_BYTES;
                if (end - offset < ((header >> 16) & 0xffff) * DELTA_BYTES + (header & 0xffff) * PAYOUT_BYTES) {
                    revert VaultMalformedBatch(offset);
                }
                offset = _applyDeltas(base, offset, (header >> 16) & 0xffff, header >> 32, accountCount);
                offset = _applyPayoutDebits(base, offset, header & 0xffff, header >> 32, accountCount);
            }
        }
    }

    /// @dev Applies `count` deltas of token `tokenId` read from calldata at `base + offset`;
    /// reverts unless their credits equal their debits. Returns the offset after them.
    /// Consecutive deltas of accounts that share a storage slot (the batcher sorts by account id)
    /// update one cached copy of the slot, written back once when the slot changes.
    function _applyDeltas(uint256 base, uint256 offset, uint256 count, uint256 tokenId, uint256 accountCount)
        private
        returns (uint256)
    {
        uint256 tokenKey = tokenId << 32;
        uint256 credits;
        uint256 debits;
        uint256 cachedKey = NO_KEY;
        uint256 cached;
        // unchecked: the caller checked that count deltas lie inside the batch and count <= 1,024;
        // credits and debits add at most 1,024 values below 2^128; accountId >= 1 is checked; a
        // balance changes only after the check that it stays within [0, 2^85 - 1].
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 entry;
                assembly ("memory-safe") {
                    entry := shr(96, calldataload(add(base, offset)))
                }
                offset += DELTA_BYTES;
                uint256 accountId = (entry >> 128) & ACCOUNT_MASK;
                if (accountId == 0 || accountId > accountCount) revert VaultUnknownAccount(accountId);
                uint256 key = tokenKey | ((accountId - 1) / 3);
                if (key != cachedKey) {
                    if (cachedKey != NO_KEY) _balanceSlots[cachedKey] = cached;
                    cachedKey = key;
                    cached = _balanceSlots[key];
                }
                uint256 shift = ((accountId - 1) % 3) * 85;
                uint256 balance = (cached >> shift) & MAX_BALANCE;
                uint256 amount = entry & AMOUNT_MASK;
                if (entry & (DEBIT_FLAG << 128) != 0) {
                    if (amount > balance) _revertInsufficient(tokenId, accountId, balance, amount);
                    cached -= amount << shift;
                    debits += amount;
                } else {
                    if (amount > MAX_BALANCE - balance) _revertOverflow(tokenId, accountId, balance, amount);
                    cached += amount << shift;
                    credits += amount;
                }
            }
        }
        if (cachedKey != NO_KEY) _balanceSlots[cachedKey] = cached;
        if (credits != debits) revert VaultBatchNotBalanced(_tokens[uint32(tokenId)], credits, debits);
        return offset;
    }

    /// @dev Debits the accounts of `count` payouts of token `tokenId` read from calldata at
    /// `base + offset`. Returns the offset after them.
    function _applyPayoutDebits(uint256 base, uint256 offset, uint256 count, uint256 tokenId, uint256 accountCount)
        private
        returns (uint256)
    {
        uint256 tokenKey = tokenId << 32;
        // unchecked: the caller checked that count payouts lie inside the batch and count <= 64;
        // accountId >= 1 is checked before the subtraction.
        unchecked {
            for (uint256 i; i < count; ++i) {
                uint256 entry;
                address recipient;
                assembly ("memory-safe") {
                    entry := shr(96, calldataload(add(base, offset)))
                    recipient := shr(96, calldataload(add(base, add(offset, 20))))
                }
                offset += PAYOUT_BYTES;
                uint256 amount = entry & AMOUNT_MASK;
                uint256 accountId = entry >> 128;
                if (accountId == 0 || accountId > accountCount) revert VaultUnknownAccount(accountId);
                if (amount == 0) revert VaultZeroAmount();
                if (recipient == address(0) || recipient == address(this)) revert VaultInvalidRecipient(recipient);
                uint256 key = tokenKey | ((accountId - 1) / 3);
                uint256 shift = ((accountId - 1) % 3) * 85;
                uint256 packed = _balanceSlots[key];
                uint256 balance = (packed >> shift) & MAX_BALANCE;
                if (amount > balance) _revertInsufficient(tokenId, accountId, balance, amount);
                _balanceSlots[key] = packed - (amount << shift);
            }
        }
        return offset;
    }

    /// @dev Second pass over a batch that `_applyBatch` validated and applied: sends the payouts;
    /// a payout the token refuses becomes a pending payout of its recipient.
    function _pushPayouts(uint64 batchId, bytes calldata batch) private {
        uint256 base;
        assembly ("memory-safe") {
            base := batch.offset
        }
        uint256 end = batch.length;
        uint256 offset;
        // unchecked: the batch was validated by _applyBatch, so every offset stays <= batch.length
        // and the section, delta and payout counts are bounded by the MAX_ constants.
        unchecked {
            for (uint256 section; offset < end && section < MAX_BATCH_TOKENS; ++section) {
                uint256 header;
                assembly ("memory-safe") {
                    header := shr(192, calldataload(add(base, offset)))
                }
                uint256 payoutCount = header & 0xffff;
                offset += SECTION_HEADER_BYTES + ((header >> 16) & 0xffff) * DELTA_BYTES;
                if (payoutCount == 0) continue;
                offset = _pushSectionPayouts(batchId, base, offset, payoutCount, _tokens[uint32(header >> 32)]);
            }
        }
    }

    /// @dev Sends `count` payouts of `token` read from calldata at `base + offset`. Returns the
    /// offset after them.
    function _pushSectionPayouts(uint64 batchId, uint256 base, uint256 offset, uint256 count, address token)
        private
        returns (uint256)
    {
        // unchecked: the batch was validated, the payouts lie inside it and count <= 64; a pending
        // payout total never exceeds the vault's balance of the token, itself below 2^256.
        unchecked {
            for (uint256 i; i < count && i < MAX_BATCH_PAYOUTS; ++i) {
                uint256 entry;
                address recipient;
                assembly ("memory-safe") {
                    entry := shr(96, calldataload(add(base, offset)))
                    recipient := shr(96, calldataload(add(base, add(offset, 20))))
                }
                offset += PAYOUT_BYTES;
                uint256 amount = entry & AMOUNT_MASK;
                if (_tryTransfer(token, recipient, amount)) {
                    emit PayoutSent(batchId, token, recipient, uint32(entry >> 128), amount);
                } else {
                    _pendingPayouts[token][recipient] += amount;
                    emit PayoutDeferred(batchId, token, recipient, uint32(entry >> 128), amount);
                }
            }
        }
        return offset;
    }

    /// @dev `transfer` with at most PAYOUT_GAS gas and at most 32 bytes of return data copied;
    /// true when the call succeeded and returned true (or nothing, from a contract).
    function _tryTransfer(address token, address to, uint256 amount) private returns (bool ok) {
        bytes memory data = abi.encodeCall(IERC20.transfer, (to, amount));
        uint256 gasLimit = PAYOUT_GAS;
        assembly ("memory-safe") {
            let success := call(gasLimit, token, 0, add(data, 0x20), mload(data), 0, 0x20)
            switch returndatasize()
            case 0 { ok := and(success, gt(extcodesize(token), 0)) }
            default { ok := and(success, and(gt(returndatasize(), 31), eq(mload(0), 1))) }
        }
    }

    function _revertInsufficient(uint256 tokenId, uint256 accountId, uint256 balance, uint256 amount) private view {
        revert VaultInsufficientBalance(_tokens[uint32(tokenId)], _accounts[uint32(accountId)], balance, amount);
    }

    function _revertOverflow(uint256 tokenId, uint256 accountId, uint256 balance, uint256 amount) private view {
        revert VaultBalanceOverflow(_tokens[uint32(tokenId)], _accounts[uint32(accountId)], balance, amount);
    }

    // ---------------------------------------------------------------- withdrawals

    /// @inheritdoc ISettlementVault
    function claimPayout(address token, address to) external nonReentrant {
        if (to == address(0) || to == address(this)) revert VaultInvalidRecipient(to);
        uint256 amount = _pendingPayouts[token][msg.sender];
        if (amount == 0) revert VaultNoPendingPayout(token, msg.sender);
        _pendingPayouts[token][msg.sender] = 0;
        emit PayoutClaimed(token, msg.sender, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc ISettlementVault
    function escapeWithdraw(address token) external nonReentrant {
        uint256 opensAt = _escapeOpensAt();
        if (block.timestamp < opensAt) revert VaultEscapeNotOpen(opensAt);
        uint32 tokenId = _tokenIds[token];
        uint32 accountId = _accountIds[msg.sender];
        if (tokenId == 0 || accountId == 0) revert VaultNothingToWithdraw(token, msg.sender);
        (uint256 key, uint256 shift) = _balanceSlot(tokenId, accountId);
        uint256 packed = _balanceSlots[key];
        uint256 amount = (packed >> shift) & MAX_BALANCE;
        if (amount == 0) revert VaultNothingToWithdraw(token, msg.sender);
        _balanceSlots[key] = packed - (amount << shift);
        emit EscapeWithdrawn(token, msg.sender, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- emergency

    /// @inheritdoc ISettlementVault
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_state.paused) revert VaultPaused();
        _state.paused = true;
        emit Paused(msg.sender);
    }

    /// @inheritdoc ISettlementVault
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_state.paused) revert VaultNotPaused();
        _state.paused = false;
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlementVault
    function settledBalance(address token, address account) external view returns (uint256) {
        uint32 tokenId = _tokenIds[token];
        uint32 accountId = _accountIds[account];
        if (tokenId == 0 || accountId == 0) return 0;
        (uint256 key, uint256 shift) = _balanceSlot(tokenId, accountId);
        return (_balanceSlots[key] >> shift) & MAX_BALANCE;
    }

    /// @inheritdoc ISettlementVault
    function pendingPayout(address token, address recipient) external view returns (uint256) {
        return _pendingPayouts[token][recipient];
    }

    /// @inheritdoc ISettlementVault
    function accountIdOf(address account) external view returns (uint32) {
        return _accountIds[account];
    }

    /// @inheritdoc ISettlementVault
    function accountOf(uint32 accountId) external view returns (address) {
        return _accounts[accountId];
    }

    /// @inheritdoc ISettlementVault
    function tokenIdOf(address token) external view returns (uint32) {
        return _tokenIds[token];
    }

    /// @inheritdoc ISettlementVault
    function tokenOf(uint32 tokenId) external view returns (address) {
        return _tokens[tokenId];
    }

    /// @inheritdoc ISettlementVault
    function lastBatchId() external view returns (uint64) {
        return _state.lastBatchId;
    }

    /// @inheritdoc ISettlementVault
    function lastSettledAt() external view returns (uint64) {
        return _state.lastSettledAt;
    }

    /// @inheritdoc ISettlementVault
    function escapeOpensAt() external view returns (uint256) {
        return _escapeOpensAt();
    }

    /// @inheritdoc ISettlementVault
    function paused() external view returns (bool) {
        return _state.paused;
    }

    /// @inheritdoc ISettlementVault
    function transferLeaf(bytes32 transferId, address token, address from, address to, uint256 amount)
        public
        pure
        returns (bytes32)
    {
        return keccak256(bytes.concat(keccak256(abi.encode(transferId, token, from, to, amount))));
    }

    /// @inheritdoc ISettlementVault
    function verifyTransfer(
        bytes32 merkleRoot,
        bytes32[] calldata proof,
        bytes32 transferId,
        address token,
        address from,
        address to,
        uint256 amount
    ) external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, merkleRoot, transferLeaf(transferId, token, from, to, amount));
    }

    function _escapeOpensAt() private view returns (uint256) {
        return uint256(_state.lastSettledAt) + escapeDelay;
    }

    function _balanceSlot(uint32 tokenId, uint32 accountId) private pure returns (uint256 key, uint256 shift) {
        // unchecked: callers pass accountId >= 1
        unchecked {
            uint256 index = uint256(accountId) - 1;
            key = (uint256(tokenId) << 32) | (index / 3);
            shift = (index % 3) * 85;
        }
    }
}
