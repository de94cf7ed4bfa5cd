// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPaymentChannels
/// @notice Two-party, bidirectional ERC-20 payment channels, many in one contract, on the Raiden
/// TokenNetwork model. Each participant's **balance proof** states what it has transferred in
/// total to the other (a running total that only grows) and is signed by that participant's
/// signing key. Deposits and withdrawals are running totals kept on chain, so no deposit, top-up
/// or withdrawal can make a proof invalid. At settlement a participant gets
/// `deposit - withdrawn - transferred + received`, clamped to [0, channel funds].
///
/// Life cycle: A opens (`Pending`); B accepts, which fixes B's signing key and is B's consent to
/// the challenge period (`Open`); either participant closes with the other's newest proof
/// (`Closing`); during the challenge period anyone may submit a proof with a larger transferred
/// total for either side (a monitoring service defends an offline participant); then `settle`
/// (`Settled`). Both participants may instead end an open channel at once with `cooperativeClose`.
/// Payouts are pushed when the token accepts them and otherwise stay claimable with `claim`, so a
/// token that refuses one side never blocks the other.
///
/// Signatures are plain ECDSA (low s, v in {27, 28}) by the signing key each participant fixed
/// when it entered the channel; nothing about a participant's code, now or later, changes which
/// signatures count. EIP-712 domain: name "PaymentChannels", version "1", the chain id and this
/// contract's address.
interface IPaymentChannels {
    /// @notice Life cycle of a channel. `None` is the state of an id that was never opened;
    /// `Pending` waits for B to accept.
    enum State {
        None,
        Pending,
        Open,
        Closing,
        Settled
    }

    /// @notice One side of a channel.
    /// @param account the participant
    /// @param signingKey the EOA whose ECDSA signatures speak for the participant, fixed at entry (0 before)
    /// @param deposit total the participant deposited
    /// @param withdrawn total paid out to the participant by withdrawals
    /// @param nonce nonce of the participant's balance proof submitted while closing (0: none)
    /// @param transferred transferred total of that proof (0: none)
    /// @param unclaimed settled payout the token refused to deliver, claimable with `claim`
    struct Participant {
        address account;
        address signingKey;
        uint256 deposit;
        uint256 withdrawn;
        uint256 nonce;
        uint256 transferred;
        uint256 unclaimed;
    }

    /// @notice A channel as stored, with both sides.
    /// @param state where the channel is in its life cycle
    /// @param token the ERC-20 token the channel holds
    /// @param challengePeriod seconds between a close and the earliest settle
    /// @param closesAt end of the challenge period (0 before a close)
    /// @param closedByA whether participant A closed
    /// @param a participant A, who opened the channel
    /// @param b participant B, who accepted it
    struct ChannelView {
        State state;
        address token;
        uint64 challengePeriod;
        uint64 closesAt;
        bool closedByA;
        Participant a;
        Participant b;
    }

    /// @notice Emitted when `participantA` opened `channelId` to `participantB`, depositing `depositA`.
    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed participantA,
        address indexed participantB,
        address token,
        address signingKeyA,
        uint256 depositA,
        uint64 challengePeriod
    );

    /// @notice Emitted when participant B accepted `channelId` (and its challenge period) with
    /// signing key `signingKeyB`, depositing `depositB`.
    event ChannelAccepted(bytes32 indexed channelId, address indexed participantB, address signingKeyB, uint256 depositB);

    /// @notice Emitted when `participant` deposited `amount` into `channelId`; `totalDeposit` is its new total.
    event ChannelDeposited(bytes32 indexed channelId, address indexed participant, uint256 amount, uint256 totalDeposit);

    /// @notice Emitted when `amount` was paid to `participant` by a withdrawal; `totalWithdrawn` is its new total.
    event ChannelWithdrawn(
        bytes32 indexed channelId, address indexed participant, uint256 amount, uint256 totalWithdrawn
    );

    /// @notice Emitted when `closer` closed `channelId` with the counterparty's proof of `nonce`
    /// and `transferred` (0, 0: no proof); settle is possible from `closesAt` on.
    event ChannelClosed(
        bytes32 indexed channelId, address indexed closer, uint256 nonce, uint256 transferred, uint64 closesAt
    );

    /// @notice Emitted when `submitter` stored `participant`'s balance proof of `nonce` and
    /// `transferred` in closing channel `channelId`.
    event ChannelBalanceProofUpdated(
        bytes32 indexed channelId,
        address indexed participant,
        address indexed submitter,
        uint256 nonce,
        uint256 transferred
    );

    /// @notice Emitted when `channelId` was settled with `payoutA` for A and `payoutB` for B.
    /// `cooperative` tells a cooperative close from a settle after the challenge period.
    event ChannelSettled(bytes32 indexed channelId, uint256 payoutA, uint256 payoutB, bool cooperative);

    /// @notice Emitted when `amount` of `participant`'s payout was paid to `to`.
    event ChannelPaidOut(bytes32 indexed channelId, address indexed participant, address to, uint256 amount);

    /// @notice Emitted when the token refused to pay `participant` its payout of `amount`; it
    /// stays claimable with `claim`.
    event ChannelPayoutRefused(bytes32 indexed channelId, address indexed participant, uint256 amount);

    /// @notice The channel is not in the state the function needs.
    error ChannelInvalidState(bytes32 channelId, State state);

    /// @notice `participant` cannot be the counterparty (zero address or the opener itself).
    error ChannelInvalidParticipant(address participant);

    /// @notice `token` is the zero address.
    error ChannelInvalidToken(address token);

    /// @notice `signingKey` is the other participant or its signing key.
    error ChannelInvalidSigningKey(address signingKey);

    /// @notice `challengePeriod` is outside [`minPeriod`, `maxPeriod`].
    error ChannelInvalidChallengePeriod(uint64 challengePeriod, uint64 minPeriod, uint64 maxPeriod);

    /// @notice `account` is not a participant of `channelId` (or not the one allowed here).
    error ChannelNotParticipant(bytes32 channelId, address account);

    /// @notice Depositing `amount` would take the channel's deposits together past 2^256 - 1.
    error ChannelDepositOverflow(bytes32 channelId, uint256 amount);

    /// @notice An amount that must be positive was zero.
    error ChannelZeroAmount(bytes32 channelId);

    /// @notice `signature` is not a valid ECDSA signature by `expectedSigner` over the typed data.
    error ChannelInvalidSignature(bytes32 channelId, address expectedSigner);

    /// @notice A balance proof needs a nonce of at least 1 (nonce 0 with transferred 0 means "no proof").
    error ChannelInvalidProof(bytes32 channelId, uint256 nonce, uint256 transferred);

    /// @notice `participant`'s proof of `transferred` is not larger than the stored `storedTransferred`.
    error ChannelStaleProof(bytes32 channelId, address participant, uint256 transferred, uint256 storedTransferred);

    /// @notice `totalWithdrawn` is not above `participant`'s current total `storedWithdrawn`.
    error ChannelStaleWithdrawal(
        bytes32 channelId, address participant, uint256 totalWithdrawn, uint256 storedWithdrawn
    );

    /// @notice The signed authorization expired at `expiry`; it is now `timestamp`.
    error ChannelAuthorizationExpired(bytes32 channelId, uint256 expiry, uint256 timestamp);

    /// @notice `totalWithdrawn` exceeds `available`: all deposits minus the other side's withdrawals.
    error ChannelWithdrawalExceedsFunds(bytes32 channelId, uint256 totalWithdrawn, uint256 available);

    /// @notice A cooperative close's totals do not pay out exactly the deposits, or fall below a
    /// participant's withdrawals so far.
    error ChannelCooperativeCloseMismatch(
        bytes32 channelId, uint256 totalWithdrawnA, uint256 totalWithdrawnB, uint256 totalDeposit
    );

    /// @notice Settle before the challenge period ends at `closesAt`.
    error ChannelChallengePeriodActive(bytes32 channelId, uint64 closesAt);

    /// @notice Proof update after the challenge period ended at `closesAt`.
    error ChannelChallengePeriodOver(bytes32 channelId, uint64 closesAt);

    /// @notice `participant` has no unclaimed payout in `channelId`.
    error ChannelNothingToClaim(bytes32 channelId, address participant);

    /// @notice A payout of `channelId` may not be claimed to `to` (the zero address, or this
    /// contract, where the tokens would be stranded outside every channel's accounting).
    error ChannelInvalidRecipient(bytes32 channelId, address to);

    /// @notice A deposit into `channelId` delivered `received` instead of `expected` (a
    /// fee-on-transfer or otherwise non-standard token): crediting `expected` would pay this
    /// channel out of other channels' funds.
    error ChannelTransferMismatch(bytes32 channelId, uint256 expected, uint256 received);

    /// @notice Opens a channel from the caller (participant A) to `participantB` in `token`, pulling
    /// `depositA` (may be 0) from the caller, who must have approved it. The channel is `Pending`
    /// until B accepts it.
    /// @param signingKeyA the EOA whose signatures speak for A in this channel; 0 for the caller itself
    /// @param challengePeriod seconds, within [minChallengePeriod, MAX_CHALLENGE_PERIOD]
    /// @return channelId keccak256(abi.encode(chain id, this contract, A, B, token, per-pair nonce))
    function open(address participantB, address token, address signingKeyA, uint256 depositA, uint64 challengePeriod)
        external
        returns (bytes32 channelId);

    /// @notice Like {open}, but first applies the caller's EIP-2612 permit for `depositA` to this
    /// contract. A permit that fails (e.g. already used by a front-runner) is ignored when the
    /// allowance suffices anyway.
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
    ) external returns (bytes32 channelId);

    /// @notice Participant B accepts pending channel `channelId`: it consents to the channel's
    /// challenge period, fixes its signing key and deposits `depositB` (may be 0, needs an approval).
    /// Before this no proof counts.
    /// @param signingKeyB the EOA whose signatures speak for B; 0 for the caller itself
    function accept(bytes32 channelId, address signingKeyB, uint256 depositB) external;

    /// @notice Tops up the caller's deposit in `channelId` by `amount`: A while pending or open, B while open.
    function deposit(bytes32 channelId, uint256 amount) external;

    /// @notice Raises `participant`'s withdrawn total in open channel `channelId` to
    /// `totalWithdrawn` and pays it the difference, authorized by both signing keys over
    /// `Withdrawal(bytes32 channelId,address participant,uint256 totalWithdrawn,uint256 expiry)`.
    /// A total, not an amount: of several authorizations at most the largest total is ever paid.
    /// Anyone may submit it.
    function withdraw(
        bytes32 channelId,
        address participant,
        uint256 totalWithdrawn,
        uint256 expiry,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external;

    /// @notice Settles open channel `channelId` at once: both signing keys sign
    /// `CooperativeClose(bytes32 channelId,uint256 totalWithdrawnA,uint256 totalWithdrawnB,uint256 expiry)`,
    /// the participants' final withdrawn totals, which must add up to all deposits. Each is paid
    /// its total minus what it withdrew already. Anyone may submit it.
    function cooperativeClose(
        bytes32 channelId,
        uint256 totalWithdrawnA,
        uint256 totalWithdrawnB,
        uint256 expiry,
        bytes calldata signatureA,
        bytes calldata signatureB
    ) external;

    /// @notice A participant closes `channelId`. Open: starts the challenge period with the
    /// counterparty's balance proof `BalanceProof(bytes32 channelId,uint256 nonce,uint256 transferred)`
    /// signed by the counterparty's key (nonce 0 and transferred 0: no proof, signature ignored).
    /// Pending (B never accepted): settles at once, A gets its deposit back.
    function close(bytes32 channelId, uint256 nonce, uint256 transferred, bytes calldata counterpartySignature)
        external;

    /// @notice During the challenge period, anyone stores `participant`'s balance proof if its
    /// transferred total is larger than the one stored. A monitoring service uses it to submit the
    /// closer's newest proof for an offline non-closer; the money goes to the participants whoever submits.
    function updateBalanceProof(
        bytes32 channelId,
        address participant,
        uint256 nonce,
        uint256 transferred,
        bytes calldata signature
    ) external;

    /// @notice After the challenge period, settles closing channel `channelId`. Anyone may call it.
    function settle(bytes32 channelId) external;

    /// @notice Pays the caller's unclaimed payout of settled channel `channelId` to `to`.
    function claim(bytes32 channelId, address to) external;

    /// @notice The protocol's shortest challenge period, fixed at deployment.
    function minChallengePeriod() external view returns (uint64);

    /// @notice The stored channel `channelId` (all zero for an unknown id).
    function getChannel(bytes32 channelId) external view returns (ChannelView memory);

    /// @notice The id the next channel from `participantA` to `participantB` in `token` will get.
    function nextChannelId(address participantA, address participantB, address token) external view returns (bytes32);

    /// @notice The payouts `settle` would give now, from the stored totals and proofs.
    function payouts(bytes32 channelId) external view returns (uint256 payoutA, uint256 payoutB);

    /// @notice The EIP-712 digest of a balance proof, as signed by `signTypedData`.
    function balanceProofDigest(bytes32 channelId, uint256 nonce, uint256 transferred) external view returns (bytes32);

    /// @notice The EIP-712 digest of a cooperative close.
    function cooperativeCloseDigest(
        bytes32 channelId,
        uint256 totalWithdrawnA,
        uint256 totalWithdrawnB,
        uint256 expiry
    ) external view returns (bytes32);

    /// @notice The EIP-712 digest of a withdrawal authorization.
    function withdrawalDigest(bytes32 channelId, address participant, uint256 totalWithdrawn, uint256 expiry)
        external
        view
        returns (bytes32);
}
