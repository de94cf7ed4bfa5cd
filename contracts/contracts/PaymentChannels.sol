// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPaymentChannels} from "./interfaces/IPaymentChannels.sol";

/// @title PaymentChannels
/// @notice Two-party bidirectional ERC-20 payment channels with running-total EIP-712 balance
/// proofs (the Raiden TokenNetwork model), fixed ECDSA signing keys and pull-safe payouts.
/// @dev Invariants: per channel, deposits == withdrawals + payouts paid + unclaimed + (while not
/// settled) the funds held; the contract's balance of a token == sum over its channels of
/// deposits - withdrawals - payouts paid. Deposits check the amount received (fee-on-transfer
/// tokens are refused); rebasing tokens are not supported.
contract PaymentChannels is IPaymentChannels, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Longest challenge period a channel may set.
    uint64 public constant MAX_CHALLENGE_PERIOD = 30 days;

    /// @notice keccak256("BalanceProof(bytes32 channelId,uint256 nonce,uint256 transferred)")
    bytes32 public constant BALANCE_PROOF_TYPEHASH =
        keccak256("BalanceProof(bytes32 channelId,uint256 nonce,uint256 transferred)");
    /// @notice keccak256 of
    /// "CooperativeClose(bytes32 channelId,uint256 totalWithdrawnA,uint256 totalWithdrawnB,uint256 expiry)"
    bytes32 public constant COOPERATIVE_CLOSE_TYPEHASH = keccak256(
        "CooperativeClose(bytes32 channelId,uint256 totalWithdrawnA,uint256 totalWithdrawnB,uint256 expiry)"
    );
    /// @notice keccak256("Withdrawal(bytes32 channelId,address participant,uint256 totalWithdrawn,uint256 expiry)")
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(bytes32 channelId,address participant,uint256 totalWithdrawn,uint256 expiry)");

    /// @dev One side. `signingKey` 0 means the account itself (saves a storage write).
    struct Side {
        address account;
        address signingKey;
        uint256 deposit;
        uint256 withdrawn;
        uint256 nonce;
        uint256 transferred;
        uint256 unclaimed;
    }

    /// @dev The first five fields share one slot (20 + 4 + 5 + 1 + 1 bytes).
    struct Channel {
        address token;
        uint32 challengePeriod;
        uint40 closesAt;
        State state;
        bool closedByA;
        Side a;
        Side b;
    }

    uint64 private immutable _minChallengePeriod;
    mapping(bytes32 channelId => Channel) private _channels;
    mapping(address participantA => mapping(address participantB => mapping(address token => uint256))) private
        _pairNonces;

    /// @param minChallengePeriod_ the protocol's shortest challenge period in seconds: one day
    /// (86,400) or more in production; local chains and tests may use less. At least 1 and at
    /// most MAX_CHALLENGE_PERIOD.
    constructor(uint64 minChallengePeriod_) EIP712("PaymentChannels", "1") {
        if (minChallengePeriod_ == 0 || minChallengePeriod_ > MAX_CHALLENGE_PERIOD) {
            revert ChannelInvalidChallengePeriod(minChallengePeriod_, 1, MAX_CHALLENGE_PERIOD);
        }
        _minChallengePeriod = minChallengePeriod_;
    }

    /// @inheritdoc IPaymentChannels
    function open(address participantB, address token, address signingKeyA, uint256 depositA, uint64 challengePeriod)
        external
        nonReentrant
        returns (bytes32 channelId)
    {
        return _open(participantB, token, signingKeyA, depositA, challengePeriod);
    }

    /// @inheritdoc IPaymentChannels
    function openWithPermit(
        address participantB,
        address token,
        address signingKeyA,
        uint256 depositA,
        uint64 challengePeriod,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (bytes32 channelId) {
        // A front-runner may have used the permit already; the transfer below still checks the allowance.
        try IERC20Permit(token).permit(msg.sender, address(this), depositA, deadline, v, r, s) {} catch {}
        return _open(participantB, token, signingKeyA, depositA, challengePeriod);
    }

    /// @inheritdoc IPaymentChannels
    function accept(bytes32 channelId, address signingKeyB, uint256 depositB) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Pending);
        Side storage b = channel.b;
        if (msg.sender != b.account) {
            revert ChannelNotParticipant(channelId, msg.sender);
        }
        address keyB = signingKeyB == address(0) ? msg.sender : signingKeyB;
        // Two sides with one key would let one signature stand for both, and a key that is the
        // other participant would let it sign for this one.
        if (keyB == _keyOf(channel.a) || keyB == channel.a.account) {
            revert ChannelInvalidSigningKey(keyB);
        }
        channel.state = State.Open;
        if (keyB != msg.sender) {
            b.signingKey = keyB;
        }
        _addDeposit(channelId, channel, b, depositB);
        emit ChannelAccepted(channelId, msg.sender, keyB, depositB);
        if (depositB != 0) {
            _pull(channelId, IERC20(channel.token), depositB);
        }
    }

    /// @inheritdoc IPaymentChannels
    function deposit(bytes32 channelId, uint256 amount) external nonReentrant {
        Channel storage channel = _channels[channelId];
        State state = channel.state;
        if (state != State.Open && state != State.Pending) {
            revert ChannelInvalidState(channelId, state);
        }
        Side storage side;
        if (msg.sender == channel.a.account) {
            side = channel.a;
        } else if (msg.sender == channel.b.account) {
            if (state != State.Open) {
                revert ChannelInvalidState(channelId, state); // B deposits with accept first
            }
            side = channel.b;
        } else {
            revert ChannelNotParticipant(channelId, msg.sender);
        }
        if (amount == 0) {
            revert ChannelZeroAmount(channelId);
        }
        uint256 total = _addDeposit(channelId, channel, side, amount);
        emit ChannelDeposited(channelId, msg.sender, amount, total);
        _pull(channelId, IERC20(channel.token), amount);
    }

    /// @inheritdoc IPaymentChannels
    function withdraw(
        bytes32 channelId,
        address participant,
        uint256 totalWithdrawn,
        uint256 expiry,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        (Side storage side, uint256 amount) = _checkWithdrawal(channelId, channel, participant, totalWithdrawn, expiry);
        _requireBoth(
            channelId, channel, withdrawalDigest(channelId, participant, totalWithdrawn, expiry), signatureA, signatureB
        );

        side.withdrawn = totalWithdrawn;
        emit ChannelWithdrawn(channelId, participant, amount, totalWithdrawn);
        IERC20(channel.token).safeTransfer(participant, amount);
    }

    /// @inheritdoc IPaymentChannels
    function cooperativeClose(
        bytes32 channelId,
        uint256 totalWithdrawnA,
        uint256 totalWithdrawnB,
        uint256 expiry,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        if (block.timestamp > expiry) {
            revert ChannelAuthorizationExpired(channelId, expiry, block.timestamp);
        }
        Side storage a = channel.a;
        Side storage b = channel.b;
        uint256 totalDeposit = a.deposit + b.deposit;
        // Compared without adding, so that totals near 2^256 revert with this error, not a panic.
        if (
            totalWithdrawnA > totalDeposit || totalWithdrawnB != totalDeposit - totalWithdrawnA
                || totalWithdrawnA < a.withdrawn || totalWithdrawnB < b.withdrawn
        ) {
            revert ChannelCooperativeCloseMismatch(channelId, totalWithdrawnA, totalWithdrawnB, totalDeposit);
        }
        _requireBoth(
            channelId,
            channel,
            cooperativeCloseDigest(channelId, totalWithdrawnA, totalWithdrawnB, expiry),
            signatureA,
            signatureB
        );

        uint256 payoutA = totalWithdrawnA - a.withdrawn;
        uint256 payoutB = totalWithdrawnB - b.withdrawn;
        _settle(channelId, channel, payoutA, payoutB, true);
    }

    /// @inheritdoc IPaymentChannels
    function close(bytes32 channelId, uint256 nonce, uint256 transferred, bytes calldata counterpartySignature)
        external
        nonReentrant
    {
        Channel storage channel = _channels[channelId];
        State state = channel.state;
        if (state != State.Open && state != State.Pending) {
            revert ChannelInvalidState(channelId, state);
        }
        bool byA = msg.sender == channel.a.account;
        if (!byA && msg.sender != channel.b.account) {
            revert ChannelNotParticipant(channelId, msg.sender);
        }
        if (state == State.Pending) {
            // B never accepted: no proof counts and B deposited nothing, so A takes its deposit back.
            emit ChannelClosed(channelId, msg.sender, 0, 0, 0);
            _settle(channelId, channel, channel.a.deposit, 0, false);
            return;
        }
        Side storage counterparty = byA ? channel.b : channel.a;
        if (nonce != 0 || transferred != 0) {
            _requireProof(channelId, counterparty, nonce, transferred, counterpartySignature);
            counterparty.nonce = nonce;
            counterparty.transferred = transferred;
        }
        // Cannot overflow: a timestamp plus at most 30 days stays far below 2^40.
        uint40 closesAt = uint40(block.timestamp) + channel.challengePeriod;
        channel.state = State.Closing;
        channel.closesAt = closesAt;
        channel.closedByA = byA;
        emit ChannelClosed(channelId, msg.sender, nonce, transferred, closesAt);
    }

    /// @inheritdoc IPaymentChannels
    function updateBalanceProof(
        bytes32 channelId,
        address participant,
        uint256 nonce,
        uint256 transferred,
        bytes calldata signature
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Closing);
        uint40 closesAt = channel.closesAt;
        if (block.timestamp >= closesAt) {
            revert ChannelChallengePeriodOver(channelId, closesAt);
        }
        (Side storage side,) = _sides(channelId, channel, participant);
        uint256 stored = side.transferred;
        // Transferred totals only grow, so the largest one is the signer's newest: ordering by it
        // (not by nonce) means no later proof with a smaller total can undo a payment.
        if (transferred <= stored) {
            revert ChannelStaleProof(channelId, participant, transferred, stored);
        }
        _requireProof(channelId, side, nonce, transferred, signature);
        side.nonce = nonce;
        side.transferred = transferred;
        emit ChannelBalanceProofUpdated(channelId, participant, msg.sender, nonce, transferred);
    }

    /// @inheritdoc IPaymentChannels
    function settle(bytes32 channelId) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Closing);
        uint40 closesAt = channel.closesAt;
        if (block.timestamp < closesAt) {
            revert ChannelChallengePeriodActive(channelId, closesAt);
        }
        (uint256 payoutA, uint256 payoutB) = _payouts(channel);
        _settle(channelId, channel, payoutA, payoutB, false);
    }

    /// @inheritdoc IPaymentChannels
    function claim(bytes32 channelId, address to) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Settled);
        Side storage side;
        if (msg.sender == channel.a.account) {
            side = channel.a;
        } else if (msg.sender == channel.b.account) {
            side = channel.b;
        } else {
            revert ChannelNotParticipant(channelId, msg.sender);
        }
        if (to == address(0) || to == address(this)) {
            revert ChannelInvalidRecipient(channelId, to);
        }
        uint256 amount = side.unclaimed;
        if (amount == 0) {
            revert ChannelNothingToClaim(channelId, msg.sender);
        }
        side.unclaimed = 0;
        emit ChannelPaidOut(channelId, msg.sender, to, amount);
        IERC20(channel.token).safeTransfer(to, amount);
    }

    /// @inheritdoc IPaymentChannels
    function minChallengePeriod() external view returns (uint64) {
        return _minChallengePeriod;
    }

    /// @inheritdoc IPaymentChannels
    function getChannel(bytes32 channelId) external view returns (ChannelView memory) {
        Channel storage c = _channels[channelId];
        return ChannelView({
            state: c.state,
            token: c.token,
            challengePeriod: c.challengePeriod,
            closesAt: c.closesAt,
            closedByA: c.closedByA,
            a: _participant(c.a, true),
            b: _participant(c.b, c.state != State.Pending)
        });
    }

    /// @inheritdoc IPaymentChannels
    function nextChannelId(address participantA, address participantB, address token) external view returns (bytes32) {
        return _channelId(participantA, participantB, token, _pairNonces[participantA][participantB][token]);
    }

    /// @inheritdoc IPaymentChannels
    function payouts(bytes32 channelId) external view returns (uint256 payoutA, uint256 payoutB) {
        return _payouts(_channels[channelId]);
    }

    /// @inheritdoc IPaymentChannels
    function balanceProofDigest(bytes32 channelId, uint256 nonce, uint256 transferred) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(BALANCE_PROOF_TYPEHASH, channelId, nonce, transferred)));
    }

    /// @inheritdoc IPaymentChannels
    function cooperativeCloseDigest(
        bytes32 channelId,
        uint256 totalWithdrawnA,
        uint256 totalWithdrawnB,
        uint256 expiry
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(abi.encode(COOPERATIVE_CLOSE_TYPEHASH, channelId, totalWithdrawnA, totalWithdrawnB, expiry))
        );
    }

    /// @inheritdoc IPaymentChannels
    function withdrawalDigest(bytes32 channelId, address participant, uint256 totalWithdrawn, uint256 expiry)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(WITHDRAWAL_TYPEHASH, channelId, participant, totalWithdrawn, expiry))
        );
    }

    function _open(
        address participantB,
        address token,
        address signingKeyA,
        uint256 depositA,
        uint64 challengePeriod
    ) private returns (bytes32 channelId) {
        if (participantB == address(0) || participantB == msg.sender) {
            revert ChannelInvalidParticipant(participantB);
        }
        if (token == address(0)) {
            revert ChannelInvalidToken(token);
        }
        uint64 minPeriod = _minChallengePeriod;
        if (challengePeriod < minPeriod || challengePeriod > MAX_CHALLENGE_PERIOD) {
            revert ChannelInvalidChallengePeriod(challengePeriod, minPeriod, MAX_CHALLENGE_PERIOD);
        }
        uint256 pairNonce = _pairNonces[msg.sender][participantB][token]++;
        channelId = _channelId(msg.sender, participantB, token, pairNonce);
        // The id hashes a nonce that only grows, so it is fresh: its state is None.
        Channel storage channel = _channels[channelId];
        channel.token = token;
        // Cannot truncate: at most MAX_CHALLENGE_PERIOD (30 days) < 2^32.
        channel.challengePeriod = uint32(challengePeriod);
        channel.state = State.Pending;
        channel.a.account = msg.sender;
        address keyA = signingKeyA == address(0) ? msg.sender : signingKeyA;
        if (keyA == participantB) {
            revert ChannelInvalidSigningKey(keyA);
        }
        if (keyA != msg.sender) {
            channel.a.signingKey = keyA;
        }
        channel.b.account = participantB;
        channel.a.deposit = depositA;
        emit ChannelOpened(channelId, msg.sender, participantB, token, keyA, depositA, challengePeriod);
        if (depositA != 0) {
            _pull(channelId, IERC20(token), depositA);
        }
    }

    /// @dev Pulls `amount` from the caller and checks that exactly `amount` arrived: a token that
    /// delivers less (fee-on-transfer) would otherwise credit the channel with tokens that belong
    /// to other channels of the same token, and its payouts would drain them.
    function _pull(bytes32 channelId, IERC20 token, uint256 amount) private {
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 after_ = token.balanceOf(address(this));
        // A token whose balance fell during the transfer counts as having delivered nothing.
        uint256 received = after_ < before ? 0 : after_ - before;
        if (received != amount) {
            revert ChannelTransferMismatch(channelId, amount, received);
        }
    }

    /// @dev The side that withdraws and the amount it gets; reverts unless the total is fresh,
    /// within the funds and not expired.
    function _checkWithdrawal(
        bytes32 channelId,
        Channel storage channel,
        address participant,
        uint256 totalWithdrawn,
        uint256 expiry
    ) private view returns (Side storage side, uint256 amount) {
        Side storage other;
        (side, other) = _sides(channelId, channel, participant);
        if (block.timestamp > expiry) {
            revert ChannelAuthorizationExpired(channelId, expiry, block.timestamp);
        }
        uint256 before = side.withdrawn;
        if (totalWithdrawn <= before) {
            revert ChannelStaleWithdrawal(channelId, participant, totalWithdrawn, before);
        }
        // Cannot underflow: withdrawals never exceed the deposits (checked here each time).
        uint256 available = channel.a.deposit + channel.b.deposit - other.withdrawn;
        if (totalWithdrawn > available) {
            revert ChannelWithdrawalExceedsFunds(channelId, totalWithdrawn, available);
        }
        amount = totalWithdrawn - before;
    }

    /// @dev Adds `amount` to `side`'s deposit, keeping both deposits together within a uint256 so
    /// that every later sum of deposits is safe.
    function _addDeposit(bytes32 channelId, Channel storage channel, Side storage side, uint256 amount)
        private
        returns (uint256 total)
    {
        // Cannot underflow: both deposits together fit a uint256, checked here each time.
        if (amount > type(uint256).max - channel.a.deposit - channel.b.deposit) {
            revert ChannelDepositOverflow(channelId, amount);
        }
        total = side.deposit + amount;
        side.deposit = total;
    }

    /// @dev Records the payouts, settles, and pushes each payout; a payout the token refuses stays
    /// claimable, so one side's refusal never blocks the other. The state is Settled and the
    /// payouts recorded before any transfer, and the reentrancy guard holds during the transfers.
    function _settle(bytes32 channelId, Channel storage channel, uint256 payoutA, uint256 payoutB, bool cooperative)
        private
    {
        channel.state = State.Settled;
        emit ChannelSettled(channelId, payoutA, payoutB, cooperative);
        IERC20 token = IERC20(channel.token);
        _push(channelId, token, channel.a, payoutA);
        _push(channelId, token, channel.b, payoutB);
    }

    function _push(bytes32 channelId, IERC20 token, Side storage side, uint256 amount) private {
        if (amount == 0) {
            return;
        }
        address account = side.account;
        if (token.trySafeTransfer(account, amount)) {
            emit ChannelPaidOut(channelId, account, account, amount);
        } else {
            side.unclaimed = amount;
            emit ChannelPayoutRefused(channelId, account, amount);
        }
    }

    /// @dev Raiden's settlement rule: A gets depositA - withdrawnA - transferredA + transferredB
    /// and B the rest of the funds, each clamped to [0, funds]. Computed from the difference of
    /// the transferred totals so that nothing overflows, whatever totals were signed.
    function _payouts(Channel storage channel) private view returns (uint256 payoutA, uint256 payoutB) {
        Side storage a = channel.a;
        Side storage b = channel.b;
        // Cannot underflow: withdrawals are checked against the deposits.
        uint256 funds = a.deposit + b.deposit - a.withdrawn - b.withdrawn;
        uint256 transferredA = a.transferred;
        uint256 transferredB = b.transferred;
        if (transferredA >= transferredB) {
            payoutA = _netOf(a.deposit, a.withdrawn, transferredA - transferredB, funds);
            payoutB = funds - payoutA;
        } else {
            payoutB = _netOf(b.deposit, b.withdrawn, transferredB - transferredA, funds);
            payoutA = funds - payoutB;
        }
    }

    /// @dev max(0, min(deposit - withdrawn - sent, funds)) without overflow, for the side that sent
    /// `sent` more than it received.
    function _netOf(uint256 deposited, uint256 withdrawn, uint256 sent, uint256 funds) private pure returns (uint256) {
        if (deposited <= withdrawn || deposited - withdrawn <= sent) {
            return 0;
        }
        uint256 net = deposited - withdrawn - sent;
        return net < funds ? net : funds;
    }

    function _requireState(bytes32 channelId, State expected) private view returns (Channel storage channel) {
        channel = _channels[channelId];
        if (channel.state != expected) {
            revert ChannelInvalidState(channelId, channel.state);
        }
    }

    /// @dev The side of `participant` and the other side; reverts if it is neither participant.
    function _sides(bytes32 channelId, Channel storage channel, address participant)
        private
        view
        returns (Side storage side, Side storage other)
    {
        if (participant == channel.a.account) {
            return (channel.a, channel.b);
        }
        if (participant == channel.b.account) {
            return (channel.b, channel.a);
        }
        revert ChannelNotParticipant(channelId, participant);
    }

    function _requireProof(
        bytes32 channelId,
        Side storage signer,
        uint256 nonce,
        uint256 transferred,
        bytes calldata signature
    ) private view {
        if (nonce == 0) {
            revert ChannelInvalidProof(channelId, nonce, transferred);
        }
        _requireSignature(channelId, _keyOf(signer), balanceProofDigest(channelId, nonce, transferred), signature);
    }

    /// @dev Both participants' signatures over `digest`: `signatureA` by A's key, `signatureB` by B's.
    function _requireBoth(
        bytes32 channelId,
        Channel storage channel,
        bytes32 digest,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) private view {
        _requireSignature(channelId, _keyOf(channel.a), digest, signatureA);
        _requireSignature(channelId, _keyOf(channel.b), digest, signatureB);
    }

    /// @dev Plain ECDSA against the fixed key: no ERC-1271 and no look at the signer's code, so
    /// neither EIP-7702 delegation nor a wallet's key rotation changes which signatures count.
    /// OpenZeppelin's ECDSA refuses high-s and malformed signatures.
    function _requireSignature(bytes32 channelId, address signer, bytes32 digest, bytes calldata signature)
        private
        pure
    {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        if (error != ECDSA.RecoverError.NoError || recovered != signer) {
            revert ChannelInvalidSignature(channelId, signer);
        }
    }

    function _keyOf(Side storage side) private view returns (address) {
        address key = side.signingKey;
        return key == address(0) ? side.account : key;
    }

    /// @dev `entered`: whether the side fixed its key (B only does so when it accepts).
    function _participant(Side storage side, bool entered) private view returns (Participant memory) {
        return Participant({
            account: side.account,
            signingKey: side.account == address(0) || !entered ? address(0) : _keyOf(side),
            deposit: side.deposit,
            withdrawn: side.withdrawn,
            nonce: side.nonce,
            transferred: side.transferred,
            unclaimed: side.unclaimed
        });
    }

    function _channelId(address participantA, address participantB, address token, uint256 pairNonce)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), participantA, participantB, token, pairNonce));
    }
}
