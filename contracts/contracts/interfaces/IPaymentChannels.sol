// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPaymentChannels
/// @notice Two-party, bidirectional ERC-20 payment channels, many in one contract. Participants
/// lock deposits on-chain, exchange EIP-712 signed balance proofs off-chain, and close either
/// cooperatively (both sign, paid at once) or unilaterally (a challenge window in which a proof
/// with a higher nonce wins, then `settle`).
///
/// A balance proof states both sides' balances at a nonce; its balances must add up to the
/// channel's funds (deposits minus withdrawals) at the time it is used. Top-ups and withdrawals
/// therefore change which proofs are valid: sign the proof of the new total before topping up,
/// and a withdrawal raises the channel's nonce floor so that only proofs with a higher nonce are valid.
///
/// EIP-712 domain: name "PaymentChannels", version "1", the chain id and this contract's address.
interface IPaymentChannels {
    /// @notice Life cycle of a channel. `None` is the state of an id that was never opened.
    enum State {
        None,
        Open,
        Closing,
        Settled
    }

    /// @notice A channel as stored.
    /// @param participantA the account that opened the channel
    /// @param participantB the counterparty
    /// @param token the ERC-20 token the channel holds
    /// @param state where the channel is in its life cycle
    /// @param challengePeriod seconds between a unilateral close and the earliest settle
    /// @param closesAt end of the challenge window (0 unless closing or settled after a unilateral close)
    /// @param closedByA whether participant A started the unilateral close
    /// @param depositA total deposited by A
    /// @param depositB total deposited by B
    /// @param withdrawn total paid out by cooperative withdrawals, to either side
    /// @param nonceFloor the nonce of the latest withdrawal (0: none); only higher proof nonces are valid
    /// @param closingNonce nonce of the proof the closing balances come from (0: the deposits)
    /// @param closingBalanceA A's balance while closing; B gets the rest of the funds
    struct Channel {
        address participantA;
        State state;
        uint64 challengePeriod;
        address participantB;
        uint64 closesAt;
        bool closedByA;
        address token;
        uint256 depositA;
        uint256 depositB;
        uint256 withdrawn;
        uint256 nonceFloor;
        uint256 closingNonce;
        uint256 closingBalanceA;
    }

    /// @notice Emitted when `participantA` opened `channelId` with `participantB` and deposited `depositA`.
    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed participantA,
        address indexed participantB,
        address token,
        uint256 depositA,
        uint64 challengePeriod
    );

    /// @notice Emitted when `participant` topped up `channelId` by `amount`; `totalDeposit` is its new total.
    event ChannelDeposited(
        bytes32 indexed channelId,
        address indexed participant,
        uint256 amount,
        uint256 totalDeposit
    );

    /// @notice Emitted when `amount` was withdrawn from open channel `channelId` to `participant`
    /// under the withdrawal authorization with nonce `nonce`.
    event ChannelWithdrawn(bytes32 indexed channelId, address indexed participant, uint256 amount, uint256 nonce);

    /// @notice Emitted when `closer` started a unilateral close of `channelId` with the balances
    /// of the proof with nonce `nonce` (0: the deposits); settle is possible from `closesAt` on.
    event ChannelClosed(
        bytes32 indexed channelId,
        address indexed closer,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        uint64 closesAt
    );

    /// @notice Emitted when `challenger` replaced the closing balances of `channelId` with a newer proof.
    event ChannelChallenged(
        bytes32 indexed channelId,
        address indexed challenger,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB
    );

    /// @notice Emitted when `channelId` was paid out, `payoutA` to A and `payoutB` to B; the
    /// channel is then settled for good. `cooperative` tells a cooperative close from a settle.
    event ChannelSettled(bytes32 indexed channelId, uint256 payoutA, uint256 payoutB, bool cooperative);

    /// @notice The channel is not in the state the function needs.
    error ChannelInvalidState(bytes32 channelId, State state);

    /// @notice `participant` cannot be the counterparty (zero address or the opener itself).
    error ChannelInvalidParticipant(address participant);

    /// @notice `token` is the zero address.
    error ChannelInvalidToken(address token);

    /// @notice `challengePeriod` is outside [`minPeriod`, `maxPeriod`].
    error ChannelInvalidChallengePeriod(uint64 challengePeriod, uint64 minPeriod, uint64 maxPeriod);

    /// @notice `account` is not a participant of `channelId` (or not the one allowed here).
    error ChannelNotParticipant(bytes32 channelId, address account);

    /// @notice An amount that must be positive was zero.
    error ChannelZeroAmount(bytes32 channelId);

    /// @notice `signature` is not a valid signature by `expectedSigner` over the typed data.
    error ChannelInvalidSignature(bytes32 channelId, address expectedSigner);

    /// @notice The balances do not add up to the channel's funds (deposits minus withdrawals).
    error ChannelBalanceMismatch(bytes32 channelId, uint256 balanceA, uint256 balanceB, uint256 funds);

    /// @notice `nonce` is not newer than `latestNonce` (the nonce floor, or the closing proof's nonce).
    error ChannelStaleNonce(bytes32 channelId, uint256 nonce, uint256 latestNonce);

    /// @notice The withdrawal authorization expired at `expiry`; it is now `timestamp`.
    error ChannelWithdrawalExpired(bytes32 channelId, uint256 expiry, uint256 timestamp);

    /// @notice A withdrawal of `amount` exceeds the channel's `funds`.
    error ChannelWithdrawalExceedsFunds(bytes32 channelId, uint256 amount, uint256 funds);

    /// @notice Settle before the challenge window ends at `closesAt`.
    error ChannelChallengePeriodActive(bytes32 channelId, uint64 closesAt);

    /// @notice Challenge after the challenge window ended at `closesAt`.
    error ChannelChallengePeriodOver(bytes32 channelId, uint64 closesAt);

    /// @notice Opens a channel from the caller (participant A) to `participantB` in `token`, pulling
    /// `depositA` (may be 0) from the caller, who must have approved it.
    /// @param participantB the counterparty; not zero, not the caller
    /// @param token the ERC-20 token; not zero
    /// @param depositA the caller's initial deposit in base units
    /// @param challengePeriod seconds of the challenge window, within the contract's bounds
    /// @return channelId keccak256(abi.encode(chain id, this contract, A, B, token, per-pair nonce))
    function open(address participantB, address token, uint256 depositA, uint64 challengePeriod)
        external
        returns (bytes32 channelId);

    /// @notice Like {open}, but first applies the caller's EIP-2612 permit for `depositA` to this
    /// contract. A permit that fails (e.g. already used by a front-runner) is ignored when the
    /// allowance suffices anyway.
    function openWithPermit(
        address participantB,
        address token,
        uint256 depositA,
        uint64 challengePeriod,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 channelId);

    /// @notice Tops up open channel `channelId` by `amount` from the caller, a participant.
    function deposit(bytes32 channelId, uint256 amount) external;

    /// @notice Pays `amount` out of open channel `channelId` to `participant`, authorized by both
    /// participants' EIP-712 signatures over
    /// `Withdrawal(bytes32 channelId,address participant,uint256 amount,uint256 nonce,uint256 expiry)`.
    /// `nonce` must exceed the channel's nonce floor and becomes the new floor: balance proofs
    /// and cooperative closes need a higher nonce afterwards, so the parties sign the
    /// post-withdrawal proof at `nonce + 1` or above. Anyone may submit it.
    function withdraw(
        bytes32 channelId,
        address participant,
        uint256 amount,
        uint256 nonce,
        uint256 expiry,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external;

    /// @notice Settles open channel `channelId` at once with the balances both participants signed as
    /// `CooperativeClose(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)`.
    /// `nonce` must exceed the nonce floor. Anyone may submit it.
    function cooperativeClose(
        bytes32 channelId,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external;

    /// @notice Starts the challenge window of open channel `channelId` with the caller's latest
    /// balance proof `BalanceProof(bytes32 channelId,uint256 nonce,uint256 balanceA,uint256 balanceB)`,
    /// signed by the counterparty. `nonce` must exceed the nonce floor (so it is at least 1).
    function closeUnilaterally(
        bytes32 channelId,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        bytes calldata counterpartySignature
    ) external;

    /// @notice Starts the challenge window of open channel `channelId` with each side's deposits as
    /// balances (nonce 0), for a caller holding no proof. Reverts with {ChannelStaleNonce} after a
    /// withdrawal, since the deposits are no longer the balances then.
    function closeWithoutProof(bytes32 channelId) external;

    /// @notice During the challenge window, the participant that did not close replaces the closing
    /// balances with a balance proof of a higher nonce signed by the closer.
    function challenge(
        bytes32 channelId,
        uint256 nonce,
        uint256 balanceA,
        uint256 balanceB,
        bytes calldata closerSignature
    ) external;

    /// @notice After the challenge window, pays closing channel `channelId` out. Anyone may call it.
    function settle(bytes32 channelId) external;

    /// @notice The stored channel `channelId` (all zero for an unknown id).
    function getChannel(bytes32 channelId) external view returns (Channel memory);

    /// @notice The id the next channel from `participantA` to `participantB` in `token` will get.
    function nextChannelId(address participantA, address participantB, address token) external view returns (bytes32);

    /// @notice The EIP-712 digest of a balance proof, as signed by `signTypedData`.
    function balanceProofDigest(bytes32 channelId, uint256 nonce, uint256 balanceA, uint256 balanceB)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest of a cooperative close.
    function cooperativeCloseDigest(bytes32 channelId, uint256 nonce, uint256 balanceA, uint256 balanceB)
        external
        view
        returns (bytes32);

    /// @notice The EIP-712 digest of a withdrawal authorization.
    function withdrawalDigest(bytes32 channelId, address participant, uint256 amount, uint256 nonce, uint256 expiry)
        external
        view
        returns (bytes32);
}
