// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
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
/// A batch among 20 accounts thus writes 7 cold slots instead of 20. Batch roots live in a ring of
/// ROOT_HISTORY slots (a warm ring costs one non-zero-to-non-zero write per batch).
///
/// Exits never depend on the operator: forced withdrawals with a deadline, `freeze`, the escape
/// hatch; the operator's reach is bounded by its activation delay and the per-token outflow limit.
contract SettlementVault is ISettlementVault, AccessControlDefaultAdminRules, ReentrancyGuardTransient {
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

    /// @notice Upper bound on the escape delay and the forced-withdrawal window.
    uint256 public constant MAX_ESCAPE_DELAY = 365 days;

    /// @notice Lower bound on the forced-withdrawal window (a pause may last half of it).
    uint256 public constant MIN_FORCED_WITHDRAWAL_WINDOW = 2;

    /// @notice Batch roots kept for `verifyTransfer`: the last 4,096 batches (a ring).
    uint256 public constant ROOT_HISTORY = 4_096;

    /// @notice Length of the window over which a token's outflow limit counts, seconds.
    uint256 public constant OUTFLOW_WINDOW = 1 days;

    /// @notice Largest forced-withdrawal minimum and outflow limit (2^96 - 1: "unlimited").
    uint256 public constant MAX_TOKEN_LIMIT = type(uint96).max;

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
        uint40 pausedUntil;
        bool frozen;
    }

    /// @dev A listed token: its id and limits, one storage slot.
    struct TokenInfo {
        uint32 id;
        uint96 minForcedWithdrawal;
        uint96 outflowLimit;
    }

    /// @dev What a token's payouts and claims sent in the window that started at `windowStart`.
    struct Outflow {
        uint64 windowStart;
        uint192 used;
    }

    /// @dev An open forced withdrawal.
    struct Request {
        uint128 amount;
        uint64 deadline;
    }

    /// @inheritdoc ISettlementVault
    uint256 public immutable escapeDelay;

    /// @inheritdoc ISettlementVault
    uint256 public immutable forcedWithdrawalWindow;

    /// @inheritdoc ISettlementVault
    uint256 public immutable operatorDelay;

    State private _state;
    mapping(address account => uint32) private _accountIds;
    mapping(uint32 accountId => address) private _accounts;
    mapping(address token => TokenInfo) private _tokenInfo;
    mapping(uint32 tokenId => address) private _tokens;
    mapping(uint32 tokenId => Outflow) private _outflows;
    /// @dev per token: settled balances plus pending payouts (what the vault owes)
    mapping(address token => uint256) private _custody;
    /// @dev key (tokenId << 32 | accountId) => open forced withdrawal
    mapping(uint256 key => Request) private _requests;
    mapping(address account => uint256) private _operatorActiveFrom;
    bytes32[ROOT_HISTORY] private _roots;
    /// @dev key (tokenId << 32 | (accountId - 1) / 3) => three 85-bit balances; account 3k+1 in the
    /// lowest bits, 3k+3 in the highest.
    mapping(uint256 key => uint256) private _balanceSlots;
    mapping(address token => mapping(address recipient => uint256)) private _pendingPayouts;

    /// @param admin the default admin (OpenZeppelin `AccessControlDefaultAdminRules`; a transfer of
    /// the role waits `operatorDelay_`)
    /// @param operator the first operator, active at once
    /// @param escapeDelay_ seconds without a batch after which the escape hatch opens
    /// @param forcedWithdrawalWindow_ seconds a batch has to serve a forced withdrawal
    /// @param operatorDelay_ seconds before a newly granted operator may act; must exceed the window
    constructor(
        address admin,
        address operator,
        uint256 escapeDelay_,
        uint256 forcedWithdrawalWindow_,
        uint256 operatorDelay_
    ) AccessControlDefaultAdminRules(uint48(operatorDelay_), admin) {
        if (operator == address(0)) revert VaultInvalidRoleHolder(operator);
        if (forcedWithdrawalWindow_ < MIN_FORCED_WITHDRAWAL_WINDOW || forcedWithdrawalWindow_ > MAX_ESCAPE_DELAY) {
            revert VaultInvalidForcedWithdrawalWindow(forcedWithdrawalWindow_);
        }
        // at least the window: a pause (at most half the window, then as long unpaused) right after
        // a batch never opens the hatch before the operator can settle again (review R-V2)
        if (escapeDelay_ < forcedWithdrawalWindow_ || escapeDelay_ > MAX_ESCAPE_DELAY) {
            revert VaultInvalidEscapeDelay(escapeDelay_);
        }
        if (operatorDelay_ <= forcedWithdrawalWindow_ || operatorDelay_ > type(uint48).max) {
            revert VaultInvalidOperatorDelay(operatorDelay_, forcedWithdrawalWindow_);
        }
        escapeDelay = escapeDelay_;
        forcedWithdrawalWindow = forcedWithdrawalWindow_;
        operatorDelay = operatorDelay_;
        _state.lastSettledAt = uint64(block.timestamp);
        _grantRole(OPERATOR_ROLE, operator);
        // the first operator acts at once: users deposit knowing it
        delete _operatorActiveFrom[operator];
    }

    /// @dev Only a holder of OPERATOR_ROLE whose activation delay has passed.
    modifier onlyActiveOperator() {
        _checkRole(OPERATOR_ROLE);
        uint256 activeFrom = _operatorActiveFrom[msg.sender];
        if (block.timestamp < activeFrom) revert VaultOperatorNotActive(msg.sender, activeFrom);
        _;
    }

    /// @dev A newly granted operator acts only `operatorDelay` later, longer than the forced
    /// withdrawal window: users can leave before a new key acts.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted && role == OPERATOR_ROLE) {
            uint256 activeFrom = block.timestamp + operatorDelay;
            _operatorActiveFrom[account] = activeFrom;
            emit OperatorScheduled(account, activeFrom);
        }
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

    /// @dev The transfer comes first because the credit is what the vault actually received
    /// (fee-on-transfer tokens deliver less than `amount`); the token is admin-listed and every
    /// entry point is nonReentrant, so the token cannot observe or reenter a half-done deposit.
    function _deposit(address token, address account, uint256 amount) private {
        if (amount == 0) revert VaultZeroAmount();
        State memory state = _state;
        if (state.frozen) revert VaultFrozen();
        if (block.timestamp < state.pausedUntil) revert VaultPaused();
        uint32 tokenId = _tokenInfo[token].id;
        if (tokenId == 0) revert VaultTokenNotListed(token);
        uint32 accountId = _accountIds[account];
        if (accountId == 0) {
            accountId = _registerAccount(state, account);
            _state = state;
        }

        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(account, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received == 0) revert VaultZeroAmount();

        (uint256 key, uint256 shift) = _balanceSlot(tokenId, accountId);
        uint256 packed = _balanceSlots[key];
        uint256 balance = (packed >> shift) & MAX_BALANCE;
        if (received > MAX_BALANCE - balance) revert VaultBalanceOverflow(token, account, balance, received);
        // balance + received <= 2^85 - 1, so the sum stays inside its third of the slot
        _balanceSlots[key] = packed + (received << shift);
        _custody[token] += received;
        emit Deposited(token, account, accountId, tokenId, received, balance + received);
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
        onlyActiveOperator
        returns (uint256 registered)
    {
        if (accounts.length > MAX_REGISTER_ACCOUNTS) {
            revert VaultTooManyAccounts(accounts.length, MAX_REGISTER_ACCOUNTS);
        }
        State memory state = _state;
        if (state.frozen) revert VaultFrozen();
        if (block.timestamp < state.pausedUntil) revert VaultPaused();
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
        onlyActiveOperator
    {
        State memory state = _state;
        if (state.frozen) revert VaultFrozen();
        if (block.timestamp < state.pausedUntil) revert VaultPaused();
        uint64 expected = state.lastBatchId + 1;
        if (batchId != expected) revert VaultBatchIdMismatch(expected, batchId);
        state.lastBatchId = batchId;
        state.lastSettledAt = uint64(block.timestamp);
        _state = state;
        _roots[batchId % ROOT_HISTORY] = merkleRoot;

        (uint256 entries, uint256[] memory paid) = _applyBatch(batchId, batch, state.accountCount, state.tokenCount);
        emit BatchSettled(batchId, merkleRoot, entries);
        if (paid.length != 0) _pushPayouts(batchId, batch, paid);
    }

    /// @dev Validates the batch and applies every delta and payout debit. Returns the number of
    /// entries and, when the batch has payouts, the amount each payout debited (in batch order;
    /// an empty array otherwise, so that a batch without payouts allocates nothing).
    function _applyBatch(uint64 batchId, bytes calldata batch, uint256 accountCount, uint256 tokenCount)
        private
        returns (uint256 entries, uint256[] memory paid)
    {
        uint256 payouts;
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
                if (header & 0xffff != 0) {
                    if (paid.length == 0) paid = new uint256[](MAX_BATCH_PAYOUTS);
                    offset = _applyPayoutDebits(
                        PayoutPass(batchId, base, offset, header & 0xffff, header >> 32, accountCount),
                        paid,
                        payouts - (header & 0xffff)
                    );
                }
            }
        }
    }

    /// @dev Applies `count` deltas of token `tokenId` read from calldata at `base + offset`;
    /// reverts unless their credits equal their debits. Returns the offset after them.
    /// Consecutive deltas of accounts that share a storage slot (the batcher sorts by account id)
    /// update one cached copy of the slot, written back once when the slot changes.
    /// A credit past MAX_BALANCE fills the balance to MAX_BALANCE and keeps the excess as a pending
    /// payout of the account (never reverting the batch).
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
        // balance changes only after the check that it stays within [0, 2^85 - 1] (a capped
        // credit adds exactly MAX_BALANCE - balance).
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
                    credits += amount;
                    if (amount > MAX_BALANCE - balance) {
                        _keepExcess(tokenId, accountId, amount - (MAX_BALANCE - balance));
                        amount = MAX_BALANCE - balance;
                    }
                    cached += amount << shift;
                }
            }
        }
        if (cachedKey != NO_KEY) _balanceSlots[cachedKey] = cached;
        if (credits != debits) revert VaultBatchNotBalanced(_tokens[uint32(tokenId)], credits, debits);
        return offset;
    }

    /// @dev Where a section's payouts lie and whom they concern (a struct against stack depth).
    struct PayoutPass {
        uint64 batchId;
        uint256 base;
        uint256 offset;
        uint256 count;
        uint256 tokenId;
        uint256 accountCount;
    }

    /// @dev Debits the accounts of a section's payouts and records in `paid[first + i]` what each
    /// debited. A payout with DEBIT_FLAG set serves the account's forced withdrawal: it debits the
    /// lesser of the request and the balance (the balance after the section's deltas and earlier
    /// payouts) and closes the request. Returns the offset after the payouts.
    function _applyPayoutDebits(PayoutPass memory pass, uint256[] memory paid, uint256 first)
        private
        returns (uint256 offset)
    {
        uint256 tokenKey = pass.tokenId << 32;
        offset = pass.offset;
        // unchecked: the caller checked that count payouts lie inside the batch, count <= 64 and
        // first + count <= 64; accountId >= 1 is checked before the subtraction; a debit never
        // exceeds the balance it is taken from.
        unchecked {
            for (uint256 i; i < pass.count && i < MAX_BATCH_PAYOUTS; ++i) {
                uint256 entry;
                address recipient;
                uint256 base = pass.base;
                assembly ("memory-safe") {
                    entry := shr(96, calldataload(add(base, offset)))
                    recipient := shr(96, calldataload(add(base, add(offset, 20))))
                }
                offset += PAYOUT_BYTES;
                uint256 amount = entry & AMOUNT_MASK;
                uint256 accountId = (entry >> 128) & ACCOUNT_MASK;
                if (accountId == 0 || accountId > pass.accountCount) revert VaultUnknownAccount(accountId);
                uint256 key = tokenKey | ((accountId - 1) / 3);
                uint256 shift = ((accountId - 1) % 3) * 85;
                uint256 packed = _balanceSlots[key];
                uint256 balance = (packed >> shift) & MAX_BALANCE;
                if (entry & (DEBIT_FLAG << 128) != 0) {
                    amount = _serveForcedWithdrawal(pass, accountId, amount, recipient, balance);
                } else {
                    if (amount == 0) revert VaultZeroAmount();
                    if (recipient == address(0) || recipient == address(this)) revert VaultInvalidRecipient(recipient);
                    if (amount > balance) _revertInsufficient(pass.tokenId, accountId, balance, amount);
                }
                _balanceSlots[key] = packed - (amount << shift);
                paid[first + i] = amount;
            }
        }
    }

    /// @dev Closes `accountId`'s open forced withdrawal of the pass's token; returns what it pays:
    /// the lesser of the request and `balance`.
    function _serveForcedWithdrawal(
        PayoutPass memory pass,
        uint256 accountId,
        uint256 amount,
        address recipient,
        uint256 balance
    ) private returns (uint256 pays) {
        address token = _tokens[uint32(pass.tokenId)];
        address account = _accounts[uint32(accountId)];
        uint256 requestKey = (pass.tokenId << 32) | accountId;
        uint256 requested = _requests[requestKey].amount;
        if (requested == 0) revert VaultNoForcedWithdrawal(token, account);
        if (amount != requested) revert VaultForcedWithdrawalMismatch(token, account, requested, amount);
        if (recipient != account) revert VaultInvalidRecipient(recipient);
        delete _requests[requestKey];
        pays = requested < balance ? requested : balance;
        emit ForcedWithdrawalServed(pass.batchId, token, account, requested, pays);
    }

    /// @dev A credit past MAX_BALANCE: `excess` becomes a pending payout of the account (custody
    /// does not change: the amount moves from a settled balance to a pending payout).
    function _keepExcess(uint256 tokenId, uint256 accountId, uint256 excess) private {
        address token = _tokens[uint32(tokenId)];
        address account = _accounts[uint32(accountId)];
        _pendingPayouts[token][account] += excess;
        emit BalanceCapExceeded(token, account, excess);
    }

    /// @dev Second pass over a batch that `_applyBatch` validated and applied: sends the payouts;
    /// a payout the token refuses becomes a pending payout of its recipient.
    function _pushPayouts(uint64 batchId, bytes calldata batch, uint256[] memory paid) private {
        uint256 base;
        assembly ("memory-safe") {
            base := batch.offset
        }
        uint256 end = batch.length;
        uint256 offset;
        uint256 done;
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
                _pushSectionPayouts(
                    PayoutPass(batchId, base, offset, payoutCount, header >> 32, 0), paid, done
                );
                offset += payoutCount * PAYOUT_BYTES;
                done += payoutCount;
            }
        }
    }

    /// @dev Sends a section's payouts (amounts from `paid`, starting at `first`) within the token's
    /// outflow limit; a payout past the limit or refused by the token becomes a pending payout of
    /// its recipient. Custody falls by what was sent.
    function _pushSectionPayouts(PayoutPass memory pass, uint256[] memory paid, uint256 first) private {
        address token = _tokens[uint32(pass.tokenId)];
        (Outflow memory outflow, uint256 limit) = _currentOutflow(uint32(pass.tokenId));
        uint256 sent;
        uint256 offset = pass.offset;
        // unchecked: the batch was validated, the payouts lie inside it and count <= 64; outflow.used
        // + amount is checked against the limit (below 2^96) first; a pending payout total never
        // exceeds the vault's balance of the token, itself below 2^256.
        unchecked {
            for (uint256 i; i < pass.count && i < MAX_BATCH_PAYOUTS; ++i) {
                uint256 entry;
                address recipient;
                uint256 base = pass.base;
                assembly ("memory-safe") {
                    entry := shr(96, calldataload(add(base, offset)))
                    recipient := shr(96, calldataload(add(base, add(offset, 20))))
                }
                offset += PAYOUT_BYTES;
                uint256 amount = paid[first + i];
                if (amount == 0) continue; // a forced withdrawal served from an empty balance
                uint32 accountId = uint32((entry >> 128) & ACCOUNT_MASK);
                if (outflow.used + amount <= limit && _tryTransfer(token, recipient, amount)) {
                    outflow.used += uint192(amount);
                    sent += amount;
                    emit PayoutSent(pass.batchId, token, recipient, accountId, amount);
                } else {
                    _pendingPayouts[token][recipient] += amount;
                    emit PayoutDeferred(pass.batchId, token, recipient, accountId, amount);
                }
            }
        }
        _outflows[uint32(pass.tokenId)] = outflow;
        _custody[token] -= sent;
    }

    /// @dev The token's outflow of the current window (a new window when the last one ended) and
    /// its limit.
    function _currentOutflow(uint32 tokenId) private view returns (Outflow memory outflow, uint256 limit) {
        outflow = _outflows[tokenId];
        limit = _tokenInfo[_tokens[tokenId]].outflowLimit;
        if (block.timestamp >= uint256(outflow.windowStart) + OUTFLOW_WINDOW) {
            outflow = Outflow(uint64(block.timestamp), 0);
        }
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


    // ---------------------------------------------------------------- withdrawals

    /// @inheritdoc ISettlementVault
    function claimPayout(address token, address to) external nonReentrant {
        if (to == address(0) || to == address(this)) revert VaultInvalidRecipient(to);
        uint256 pending = _pendingPayouts[token][msg.sender];
        if (pending == 0) revert VaultNoPendingPayout(token, msg.sender);
        uint256 amount = pending;
        // Frozen: no operator acts any more and escapes are unlimited, so a pending payout (a served
        // forced withdrawal among them) leaves whole instead of racing others for the room (R-V1).
        if (!_state.frozen) {
            uint32 tokenId = _tokenInfo[token].id;
            (Outflow memory outflow, uint256 limit) = _currentOutflow(tokenId);
            uint256 room = limit > outflow.used ? limit - outflow.used : 0;
            if (room == 0) revert VaultOutflowLimited(token, uint256(outflow.windowStart) + OUTFLOW_WINDOW);
            if (room < pending) amount = room;
            outflow.used += uint192(amount);
            _outflows[tokenId] = outflow;
        }
        _pendingPayouts[token][msg.sender] = pending - amount;
        _custody[token] -= amount;
        emit PayoutClaimed(token, msg.sender, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }

    /// @inheritdoc ISettlementVault
    function requestForcedWithdrawal(address token, uint256 amount) external nonReentrant {
        if (_state.frozen) revert VaultFrozen();
        TokenInfo memory info = _tokenInfo[token];
        if (info.id == 0) revert VaultTokenNotListed(token);
        uint32 accountId = _accountIds[msg.sender];
        if (accountId == 0) revert VaultNothingToWithdraw(token, msg.sender);
        (uint256 key, uint256 shift) = _balanceSlot(info.id, accountId);
        uint256 balance = (_balanceSlots[key] >> shift) & MAX_BALANCE;
        if (amount < info.minForcedWithdrawal || amount > MAX_BALANCE || balance < info.minForcedWithdrawal) {
            revert VaultForcedWithdrawalAmount(amount, balance, info.minForcedWithdrawal);
        }
        uint256 requestKey = (uint256(info.id) << 32) | accountId;
        Request memory open = _requests[requestKey];
        if (open.amount != 0) revert VaultForcedWithdrawalPending(token, msg.sender, open.deadline);
        uint64 deadline = uint64(block.timestamp + forcedWithdrawalWindow);
        _requests[requestKey] = Request(uint128(amount), deadline);
        emit ForcedWithdrawalRequested(token, msg.sender, accountId, amount, deadline);
    }

    /// @inheritdoc ISettlementVault
    function freeze(address token, address account) external {
        if (_state.frozen) revert VaultFrozen();
        uint256 requestKey = (uint256(_tokenInfo[token].id) << 32) | _accountIds[account];
        Request memory request = _requests[requestKey];
        if (request.amount == 0) revert VaultNoForcedWithdrawal(token, account);
        if (block.timestamp <= request.deadline) {
            revert VaultForcedWithdrawalNotOverdue(token, account, request.deadline);
        }
        _state.frozen = true;
        emit Frozen(msg.sender, token, account);
    }

    /// @inheritdoc ISettlementVault
    function escapeWithdraw(address token) external nonReentrant {
        if (!_state.frozen) {
            uint256 opensAt = _escapeOpensAt();
            if (block.timestamp < opensAt) revert VaultEscapeNotOpen(opensAt);
            // once the hatch is used no batch ever settles again: balances spent off chain
            // before the escape can never be settled against nothing
            _state.frozen = true;
            emit Frozen(msg.sender, token, msg.sender);
        }
        uint32 tokenId = _tokenInfo[token].id;
        uint32 accountId = _accountIds[msg.sender];
        if (tokenId == 0 || accountId == 0) revert VaultNothingToWithdraw(token, msg.sender);
        (uint256 key, uint256 shift) = _balanceSlot(tokenId, accountId);
        uint256 packed = _balanceSlots[key];
        uint256 amount = (packed >> shift) & MAX_BALANCE;
        if (amount == 0) revert VaultNothingToWithdraw(token, msg.sender);
        _balanceSlots[key] = packed - (amount << shift);
        _custody[token] -= amount;
        emit EscapeWithdrawn(token, msg.sender, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- admin

    /// @inheritdoc ISettlementVault
    function listToken(address token, uint256 minForcedWithdrawal, uint256 outflowLimit)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (token == address(0) || token == address(this)) revert VaultTokenNotListed(token);
        if (_tokenInfo[token].id != 0) revert VaultTokenAlreadyListed(token);
        _checkLimits(minForcedWithdrawal, outflowLimit);
        State memory state = _state;
        if (state.tokenCount == type(uint32).max) revert VaultIdsExhausted();
        uint32 tokenId = ++state.tokenCount;
        _state = state;
        _tokenInfo[token] = TokenInfo(tokenId, uint96(minForcedWithdrawal), uint96(outflowLimit));
        _tokens[tokenId] = token;
        emit TokenRegistered(token, tokenId);
        emit TokenListed(token, tokenId, minForcedWithdrawal, outflowLimit);
    }

    /// @inheritdoc ISettlementVault
    function setTokenLimits(address token, uint256 minForcedWithdrawal, uint256 outflowLimit)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        uint32 tokenId = _tokenInfo[token].id;
        if (tokenId == 0) revert VaultTokenNotListed(token);
        _checkLimits(minForcedWithdrawal, outflowLimit);
        _tokenInfo[token] = TokenInfo(tokenId, uint96(minForcedWithdrawal), uint96(outflowLimit));
        emit TokenLimitsChanged(token, minForcedWithdrawal, outflowLimit);
    }

    /// @inheritdoc ISettlementVault
    function sweepStray(address token, address to) external nonReentrant onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0) || to == address(this)) revert VaultInvalidRecipient(to);
        uint256 held = IERC20(token).balanceOf(address(this));
        uint256 owed = _custody[token];
        if (held <= owed) revert VaultNothingToWithdraw(token, address(this));
        emit StraySwept(token, to, held - owed);
        IERC20(token).safeTransfer(to, held - owed);
    }

    function _checkLimits(uint256 minForcedWithdrawal, uint256 outflowLimit) private pure {
        if (minForcedWithdrawal == 0 || minForcedWithdrawal > MAX_TOKEN_LIMIT || outflowLimit == 0
            || outflowLimit > MAX_TOKEN_LIMIT) {
            revert VaultInvalidTokenLimits(minForcedWithdrawal, outflowLimit);
        }
    }

    // ---------------------------------------------------------------- emergency

    /// @inheritdoc ISettlementVault
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 pausedUntil = _state.pausedUntil;
        if (block.timestamp < pausedUntil) revert VaultPaused();
        uint256 maxPause = maxPauseDuration();
        // a pause that ended at pausedUntil started at most maxPause before it
        if (pausedUntil != 0 && block.timestamp < pausedUntil + maxPause) {
            revert VaultPauseCooldown(pausedUntil + maxPause);
        }
        uint256 until = block.timestamp + maxPause;
        _state.pausedUntil = uint40(until);
        emit Paused(msg.sender, until);
    }

    /// @inheritdoc ISettlementVault
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (block.timestamp >= _state.pausedUntil) revert VaultNotPaused();
        _state.pausedUntil = uint40(block.timestamp);
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISettlementVault
    function settledBalance(address token, address account) external view returns (uint256) {
        uint32 tokenId = _tokenInfo[token].id;
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
        return _tokenInfo[token].id;
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
        return block.timestamp < _state.pausedUntil;
    }

    /// @inheritdoc ISettlementVault
    function frozen() external view returns (bool) {
        return _state.frozen;
    }

    /// @inheritdoc ISettlementVault
    function maxPauseDuration() public view returns (uint256) {
        return forcedWithdrawalWindow / 2;
    }

    /// @inheritdoc ISettlementVault
    function operatorActiveFrom(address account) external view returns (uint256) {
        return _operatorActiveFrom[account];
    }

    /// @inheritdoc ISettlementVault
    function forcedWithdrawal(address token, address account) external view returns (uint256 amount, uint256 deadline) {
        Request memory request = _requests[(uint256(_tokenInfo[token].id) << 32) | _accountIds[account]];
        return (request.amount, request.deadline);
    }

    /// @inheritdoc ISettlementVault
    function tokenConfig(address token)
        external
        view
        returns (uint32 tokenId, uint256 minForcedWithdrawal, uint256 outflowLimit)
    {
        TokenInfo memory info = _tokenInfo[token];
        return (info.id, info.minForcedWithdrawal, info.outflowLimit);
    }

    /// @inheritdoc ISettlementVault
    function outflowAvailable(address token) external view returns (uint256) {
        (Outflow memory outflow, uint256 limit) = _currentOutflow(_tokenInfo[token].id);
        return limit > outflow.used ? limit - outflow.used : 0;
    }

    /// @inheritdoc ISettlementVault
    function custody(address token) external view returns (uint256) {
        return _custody[token];
    }

    /// @inheritdoc ISettlementVault
    function batchRoot(uint64 batchId) public view returns (bytes32) {
        uint64 last = _state.lastBatchId;
        if (batchId == 0 || batchId > last || last - batchId >= ROOT_HISTORY) revert VaultRootUnavailable(batchId);
        return _roots[batchId % ROOT_HISTORY];
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
        uint64 batchId,
        bytes32[] calldata proof,
        bytes32 transferId,
        address token,
        address from,
        address to,
        uint256 amount
    ) external view returns (bool) {
        return MerkleProof.verifyCalldata(proof, batchRoot(batchId), transferLeaf(transferId, token, from, to, amount));
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
