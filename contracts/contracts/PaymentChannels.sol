// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPaymentChannels} from "./interfaces/IPaymentChannels.sol";

/// @title PaymentChannels
/// @notice Two-party bidirectional ERC-20 payment channels with EIP-712 balance proofs.
/// @dev Invariants: per channel, depositA + depositB == withdrawn + final payouts; the contract's
/// balance of a token == sum over its open and closing channels of (deposits - withdrawn).
/// Tokens that charge a fee on transfer or rebase are not supported.
contract PaymentChannels is IPaymentChannels, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Shortest challenge window a channel may set.
    uint64 public constant MIN_CHALLENGE_PERIOD = 10 minutes;
    /// @notice Longest challenge window a channel may set.
    uint64 public constant MAX_CHALLENGE_PERIOD = 30 days;

    /// @notice keccak256("BalanceProof(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)")
    bytes32 public constant BALANCE_PROOF_TYPEHASH =
        keccak256("BalanceProof(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)");
    /// @notice keccak256("CooperativeClose(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)")
    bytes32 public constant COOPERATIVE_CLOSE_TYPEHASH =
        keccak256("CooperativeClose(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)");
    /// @notice keccak256 of the Withdrawal type string
    /// "Withdrawal(bytes32 channelId,address participant,uint256 amount,uint256 nonce,uint256 expiry)"
    bytes32 public constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(bytes32 channelId,address participant,uint256 amount,uint256 nonce,uint256 expiry)");

    mapping(bytes32 channelId => Channel) private _channels;
    mapping(address participantA => mapping(address participantB => mapping(address token => uint256))) private
        _pairNonces;

    constructor() EIP712("PaymentChannels", "1") {}

    /// @inheritdoc IPaymentChannels
    function open(address participantB, address token, uint256 depositA, uint64 challengePeriod)
        external
        nonReentrant
        returns (bytes32 channelId)
    {
        return _open(participantB, token, depositA, challengePeriod);
    }

    /// @inheritdoc IPaymentChannels
    function openWithPermit(
        address participantB,
        address token,
        uint256 depositA,
        uint64 challengePeriod,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (bytes32 channelId) {
        // A front-runner may have used the permit already; the transfer below still checks the allowance.
        try IERC20Permit(token).permit(msg.sender, address(this), depositA, deadline, v, r, s) {} catch {}
        return _open(participantB, token, depositA, challengePeriod);
    }

    /// @inheritdoc IPaymentChannels
    function deposit(bytes32 channelId, uint256 amount) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        if (amount == 0) {
            revert ChannelZeroAmount(channelId);
        }
        uint256 total;
        if (msg.sender == channel.participantA) {
            total = channel.depositA + amount;
            channel.depositA = total;
        } else if (msg.sender == channel.participantB) {
            total = channel.depositB + amount;
            channel.depositB = total;
        } else {
            revert ChannelNotParticipant(channelId, msg.sender);
        }
        emit ChannelDeposited(channelId, msg.sender, amount, total);
        IERC20(channel.token).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IPaymentChannels
    function withdraw(
        bytes32 channelId,
        address participant,
        uint256 amount,
        uint256 nonce,
        uint256 expiry,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        if (participant != channel.participantA && participant != channel.participantB) {
            revert ChannelNotParticipant(channelId, participant);
        }
        if (amount == 0) {
            revert ChannelZeroAmount(channelId);
        }
        if (block.timestamp > expiry) {
            revert ChannelWithdrawalExpired(channelId, expiry, block.timestamp);
        }
        uint256 floor = channel.nonceFloor;
        if (nonce <= floor) {
            revert ChannelStaleNonce(channelId, nonce, floor);
        }
        uint256 funds = _funds(channel);
        if (amount > funds) {
            revert ChannelWithdrawalExceedsFunds(channelId, amount, funds);
        }
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(WITHDRAWAL_TYPEHASH, channelId, participant, amount, nonce, expiry))
        );
        _requireSignature(channelId, channel.participantA, digest, signatureA);
        _requireSignature(channelId, channel.participantB, digest, signatureB);

        channel.nonceFloor = nonce;
        channel.withdrawn += amount;
        emit ChannelWithdrawn(channelId, participant, amount, nonce);
        IERC20(channel.token).safeTransfer(participant, amount);
    }

    /// @inheritdoc IPaymentChannels
    function cooperativeClose(
        bytes32 channelId,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        _requireUsable(channelId, channel, nonce, balanceA, balanceB);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(COOPERATIVE_CLOSE_TYPEHASH, channelId, nonce, balanceA, balanceB))
        );
        _requireSignature(channelId, channel.participantA, digest, signatureA);
        _requireSignature(channelId, channel.participantB, digest, signatureB);

        channel.state = State.Settled;
        emit ChannelSettled(channelId, balanceA, balanceB, true);
        _payOut(channel, balanceA, balanceB);
    }

    /// @inheritdoc IPaymentChannels
    function closeUnilaterally(
        bytes32 channelId,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        bytes calldata counterpartySignature
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        bool byA = _requireParticipant(channelId, channel);
        _requireUsable(channelId, channel, nonce, balanceA, balanceB);
        _requireSignature(
            channelId,
            byA ? channel.participantB : channel.participantA,
            balanceProofDigest(channelId, nonce, balanceA, balanceB),
            counterpartySignature
        );
        _startClosing(channelId, channel, byA, nonce, balanceA, balanceB);
    }

    /// @inheritdoc IPaymentChannels
    function closeWithoutProof(bytes32 channelId) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Open);
        bool byA = _requireParticipant(channelId, channel);
        if (channel.nonceFloor != 0) {
            revert ChannelStaleNonce(channelId, 0, channel.nonceFloor);
        }
        // No withdrawal happened (the floor is 0), so the deposits are exactly the funds.
        _startClosing(channelId, channel, byA, 0, channel.depositA, channel.depositB);
    }

    /// @inheritdoc IPaymentChannels
    function challenge(
        bytes32 channelId,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        bytes calldata closerSignature
    ) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Closing);
        bool closedByA = channel.closedByA;
        address challenger = closedByA ? channel.participantB : channel.participantA;
        if (msg.sender != challenger) {
            revert ChannelNotParticipant(channelId, msg.sender);
        }
        uint64 closesAt = channel.closesAt;
        if (block.timestamp >= closesAt) {
            revert ChannelChallengePeriodOver(channelId, closesAt);
        }
        uint256 current = channel.closingNonce;
        if (nonce <= current) {
            revert ChannelStaleNonce(channelId, nonce, current);
        }
        _requireBalances(channelId, channel, balanceA, balanceB);
        _requireSignature(
            channelId,
            closedByA ? channel.participantA : channel.participantB,
            balanceProofDigest(channelId, nonce, balanceA, balanceB),
            closerSignature
        );

        channel.closingNonce = nonce;
        channel.closingBalanceA = balanceA;
        emit ChannelChallenged(channelId, msg.sender, nonce, balanceA, balanceB);
    }

    /// @inheritdoc IPaymentChannels
    function settle(bytes32 channelId) external nonReentrant {
        Channel storage channel = _requireState(channelId, State.Closing);
        uint64 closesAt = channel.closesAt;
        if (block.timestamp < closesAt) {
            revert ChannelChallengePeriodActive(channelId, closesAt);
        }
        uint256 funds = _funds(channel);
        uint256 payoutA = channel.closingBalanceA;
        uint256 payoutB;
        // Cannot underflow: closingBalanceA was checked to be at most the funds, which do not
        // change while the channel is closing (no deposits or withdrawals then).
        unchecked {
            payoutB = funds - payoutA;
        }
        channel.state = State.Settled;
        emit ChannelSettled(channelId, payoutA, payoutB, false);
        _payOut(channel, payoutA, payoutB);
    }

    /// @inheritdoc IPaymentChannels
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    /// @inheritdoc IPaymentChannels
    function nextChannelId(address participantA, address participantB, address token) external view returns (bytes32) {
        return _channelId(participantA, participantB, token, _pairNonces[participantA][participantB][token]);
    }

    /// @inheritdoc IPaymentChannels
    function balanceProofDigest(bytes32 channelId, uint256 nonce, uint256 balanceA, uint256 balanceB)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(BALANCE_PROOF_TYPEHASH, channelId, nonce, balanceA, balanceB)));
    }

    /// @inheritdoc IPaymentChannels
    function cooperativeCloseDigest(bytes32 channelId, uint256 nonce, uint256 balanceA, uint256 balanceB)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(COOPERATIVE_CLOSE_TYPEHASH, channelId, nonce, balanceA, balanceB))
        );
    }

    /// @inheritdoc IPaymentChannels
    function withdrawalDigest(bytes32 channelId, address participant, uint256 amount, uint256 nonce, uint256 expiry)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(abi.encode(WITHDRAWAL_TYPEHASH, channelId, participant, amount, nonce, expiry))
        );
    }

    function _open(address participantB, address token, uint256 depositA, uint64 challengePeriod)
        private
        returns (bytes32 channelId)
    {
        if (participantB == address(0) || participantB == msg.sender) {
            revert ChannelInvalidParticipant(participantB);
        }
        if (token == address(0)) {
            revert ChannelInvalidToken(token);
        }
        if (challengePeriod < MIN_CHALLENGE_PERIOD || challengePeriod > MAX_CHALLENGE_PERIOD) {
            revert ChannelInvalidChallengePeriod(challengePeriod, MIN_CHALLENGE_PERIOD, MAX_CHALLENGE_PERIOD);
        }
        uint256 pairNonce = _pairNonces[msg.sender][participantB][token]++;
        channelId = _channelId(msg.sender, participantB, token, pairNonce);
        // The id hashes a nonce that only grows, so it is fresh: its state is None.
        Channel storage channel = _channels[channelId];
        channel.participantA = msg.sender;
        channel.state = State.Open;
        channel.challengePeriod = challengePeriod;
        channel.participantB = participantB;
        channel.token = token;
        channel.depositA = depositA;
        emit ChannelOpened(channelId, msg.sender, participantB, token, depositA, challengePeriod);
        if (depositA != 0) {
            IERC20(token).safeTransferFrom(msg.sender, address(this), depositA);
        }
    }

    function _startClosing(
        bytes32 channelId,
        Channel storage channel,
        bool byA,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB
    ) private {
        // Cannot overflow in practice: a timestamp plus at most 30 days stays far below 2^64.
        uint64 closesAt = uint64(block.timestamp) + channel.challengePeriod;
        channel.state = State.Closing;
        channel.closesAt = closesAt;
        channel.closedByA = byA;
        channel.closingNonce = nonce;
        channel.closingBalanceA = balanceA;
        emit ChannelClosed(channelId, msg.sender, nonce, balanceA, balanceB, closesAt);
    }

    function _payOut(Channel storage channel, uint256 payoutA, uint256 payoutB) private {
        IERC20 token = IERC20(channel.token);
        if (payoutA != 0) {
            token.safeTransfer(channel.participantA, payoutA);
        }
        if (payoutB != 0) {
            token.safeTransfer(channel.participantB, payoutB);
        }
    }

    function _requireState(bytes32 channelId, State expected) private view returns (Channel storage channel) {
        channel = _channels[channelId];
        if (channel.state != expected) {
            revert ChannelInvalidState(channelId, channel.state);
        }
    }

    /// @dev Returns whether the caller is participant A; reverts if it is neither participant.
    function _requireParticipant(bytes32 channelId, Channel storage channel) private view returns (bool) {
        if (msg.sender == channel.participantA) {
            return true;
        }
        if (msg.sender == channel.participantB) {
            return false;
        }
        revert ChannelNotParticipant(channelId, msg.sender);
    }

    /// @dev A proof or close is usable if its nonce is above the floor and its balances add up.
    function _requireUsable(
        bytes32 channelId,
        Channel storage channel,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB
    ) private view {
        uint256 floor = channel.nonceFloor;
        if (nonce <= floor) {
            revert ChannelStaleNonce(channelId, nonce, floor);
        }
        _requireBalances(channelId, channel, balanceA, balanceB);
    }

    function _requireBalances(bytes32 channelId, Channel storage channel, uint256 balanceA, uint256 balanceB)
        private
        view
    {
        uint256 funds = _funds(channel);
        // Compared without adding, so that balances near 2^256 revert with this error, not a panic.
        if (balanceA > funds || balanceB != funds - balanceA) {
            revert ChannelBalanceMismatch(channelId, balanceA, balanceB, funds);
        }
    }

    function _requireSignature(bytes32 channelId, address signer, bytes32 digest, bytes calldata signature)
        private
        view
    {
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) {
            revert ChannelInvalidSignature(channelId, signer);
        }
    }

    /// @dev Deposits minus withdrawals. The deposits were pulled from one token, whose total supply
    /// fits a uint256, so their sum does too; withdrawals never exceed the funds.
    function _funds(Channel storage channel) private view returns (uint256) {
        return channel.depositA + channel.depositB - channel.withdrawn;
    }

    function _channelId(address participantA, address participantB, address token, uint256 pairNonce)
        private
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, address(this), participantA, participantB, token, pairNonce));
    }
}
