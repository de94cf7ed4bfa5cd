package dev.agentescrow.chain.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Calls;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainException;
import dev.agentescrow.chain.ContractLogs;
import dev.agentescrow.chain.Erc20Permit;
import dev.agentescrow.chain.Erc20PermitSigner;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.EventDecoder;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.wrappers.PaymentChannels;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/**
 * The PaymentChannels contract seen through the gateway: value types in, value types out. Writes
 * name the signer that sends them; signatures over channel messages come from
 * {@link #typedDataSigner()}. Every participant signs with its own key here (the contract's
 * default); a smart-wallet participant would name an EOA key instead.
 */
public final class PaymentChannelsGateway {
    private static final EventDecoder<ChannelEvent> EVENTS = EventDecoder.of(Map.of(
            PaymentChannels.CHANNELOPENED_EVENT, PaymentChannelsGateway::opened,
            PaymentChannels.CHANNELACCEPTED_EVENT, PaymentChannelsGateway::accepted,
            PaymentChannels.CHANNELDEPOSITED_EVENT, PaymentChannelsGateway::deposited,
            PaymentChannels.CHANNELWITHDRAWN_EVENT, PaymentChannelsGateway::withdrawn,
            PaymentChannels.CHANNELCLOSED_EVENT, PaymentChannelsGateway::closed,
            PaymentChannels.CHANNELBALANCEPROOFUPDATED_EVENT, PaymentChannelsGateway::balanceProofUpdated,
            PaymentChannels.CHANNELSETTLED_EVENT, PaymentChannelsGateway::settled,
            PaymentChannels.CHANNELPAIDOUT_EVENT, PaymentChannelsGateway::paidOut,
            PaymentChannels.CHANNELPAYOUTREFUSED_EVENT, PaymentChannelsGateway::payoutRefused));
    private static final String SELF = Address.ZERO.hex();

    private final ChainClient client;
    private final Address address;
    private final ChannelTypedDataSigner typedDataSigner;
    private final ContractLogs logs;
    private final Erc20PermitSigner permits;

    public PaymentChannelsGateway(ChainClient client, Address address) {
        this.client = client;
        this.address = address;
        this.typedDataSigner = new ChannelTypedDataSigner(ChannelDomain.of(client.settings().chainId(), address));
        this.logs = new ContractLogs(client, address);
        this.permits = new Erc20PermitSigner(client);
    }

    /**
     * Deploys a new PaymentChannels contract whose channels need a challenge period of at least
     * {@code minChallengePeriod} (production: one day or more; local chains and tests may use less).
     */
    public static PaymentChannelsGateway deploy(ChainClient client, Signer deployer, Duration minChallengePeriod) {
        PaymentChannels contract = Calls.send(() -> PaymentChannels.deploy(client.web3j(),
                deployer.transactionManager(), deployer.gasProvider(),
                BigInteger.valueOf(minChallengePeriod.toSeconds())).send());
        return new PaymentChannelsGateway(client, Address.of(contract.getContractAddress()));
    }

    public Address address() {
        return address;
    }

    /** Signs and verifies messages for this contract's EIP-712 domain. */
    public ChannelTypedDataSigner typedDataSigner() {
        return typedDataSigner;
    }

    /**
     * Approves {@code deposit} (if positive) and opens a channel from {@code opener} to
     * {@code counterparty} with that deposit. It stays {@link ChannelState#PENDING} until the
     * counterparty {@linkplain #accept accepts} it.
     */
    public OpenedChannel open(Signer opener, Address counterparty, Erc20Token token, Amount deposit,
                              Duration challengePeriod) {
        if (!deposit.isZero()) {
            token.approve(opener, address, deposit);
        }
        TransactionReceipt receipt = Calls.send(() -> as(opener).open(counterparty.hex(), token.address().hex(),
                SELF, deposit.baseUnits(), BigInteger.valueOf(challengePeriod.toSeconds())).send());
        return openedChannel(receipt);
    }

    /**
     * Opens a channel from {@code opener} to {@code counterparty} with {@code deposit} in one
     * transaction, with an EIP-2612 permit for the deposit signed here with the opener's key and
     * valid until {@code permitDeadline}: no prior approval.
     */
    public OpenedChannel openWithPermit(Signer opener, Address counterparty, Erc20Token token, Amount deposit,
                                        Duration challengePeriod, Instant permitDeadline) {
        Erc20Permit permit = permits.sign(opener, token.address(), address, deposit, permitDeadline);
        return openWithPermit(opener, counterparty, token, challengePeriod, permit);
    }

    /**
     * Opens a channel from {@code opener} to {@code counterparty} with a deposit of
     * {@code permit.value()}, using a permit the opener signed beforehand for this contract. The
     * contract ignores a permit that fails (e.g. one a front-runner already used) when the allowance
     * covers the deposit anyway.
     */
    public OpenedChannel openWithPermit(Signer opener, Address counterparty, Erc20Token token,
                                        Duration challengePeriod, Erc20Permit permit) {
        TransactionReceipt receipt = Calls.send(() -> as(opener).openWithPermit(counterparty.hex(),
                token.address().hex(), SELF, permit.value().baseUnits(), BigInteger.valueOf(challengePeriod.toSeconds()),
                permit.deadlineSeconds(), BigInteger.valueOf(permit.v()), permit.r().bytes(), permit.s().bytes())
                .send());
        return openedChannel(receipt);
    }

    /** The id the open in {@code receipt} logged; exactly one {@code ChannelOpened} event is expected. */
    private OpenedChannel openedChannel(TransactionReceipt receipt) {
        List<PaymentChannels.ChannelOpenedEventResponse> opened = PaymentChannels.getChannelOpenedEvents(receipt)
                .stream().filter(e -> address.equals(Address.of(e.log.getAddress()))).toList();
        if (opened.size() != 1) {
            throw new ChainException("open in " + receipt.getTransactionHash() + " logged " + opened.size()
                    + " ChannelOpened events");
        }
        return new OpenedChannel(new Bytes32(opened.getFirst().channelId), Receipt.of(receipt));
    }

    /**
     * Participant B accepts pending channel {@code channelId} with its own key as signing key:
     * it consents to the channel's challenge period; approves and deposits {@code deposit} (may be 0).
     */
    public Receipt accept(Signer participantB, Bytes32 channelId, Amount deposit) {
        if (!deposit.isZero()) {
            new Erc20Token(client, channel(channelId).token()).approve(participantB, address, deposit);
        }
        return Calls.send(() -> Receipt.of(as(participantB).accept(channelId.bytes(), SELF, deposit.baseUnits())
                .send()));
    }

    /** Approves and tops up {@code channelId} by {@code amount} from {@code participant}. */
    public Receipt deposit(Signer participant, Bytes32 channelId, Amount amount) {
        Erc20Token token = new Erc20Token(client, channel(channelId).token());
        token.approve(participant, address, amount);
        return Calls.send(() -> Receipt.of(as(participant).deposit(channelId.bytes(), amount.baseUnits()).send()));
    }

    /** Raises a participant's withdrawn total and pays it the difference; any signer may submit it. */
    public Receipt withdraw(Signer submitter, Withdrawal withdrawal, ChannelSignature signatureA,
                            ChannelSignature signatureB) {
        return Calls.send(() -> Receipt.of(as(submitter).withdraw(withdrawal.channelId().bytes(),
                withdrawal.participant().hex(), withdrawal.totalWithdrawn().baseUnits(), withdrawal.expirySeconds(),
                signatureA.bytes(), signatureB.bytes()).send()));
    }

    /** Settles a channel at once with both participants' signatures; any signer may submit it. */
    public Receipt cooperativeClose(Signer submitter, CooperativeClose close, ChannelSignature signatureA,
                                    ChannelSignature signatureB) {
        return Calls.send(() -> Receipt.of(as(submitter).cooperativeClose(close.channelId().bytes(),
                close.totalWithdrawnA().baseUnits(), close.totalWithdrawnB().baseUnits(), close.expirySeconds(),
                signatureA.bytes(), signatureB.bytes()).send()));
    }

    /** Closes with the counterparty's newest {@code proof}, signed by the counterparty's key. */
    public Receipt close(Signer closer, BalanceProof proof, ChannelSignature counterpartySignature) {
        return Calls.send(() -> Receipt.of(as(closer).close(proof.channelId().bytes(), proof.nonce().value(),
                proof.transferred().baseUnits(), counterpartySignature.bytes()).send()));
    }

    /** Closes holding no proof of the counterparty (it transferred nothing); a pending channel settles at once. */
    public Receipt closeWithoutProof(Signer closer, Bytes32 channelId) {
        return Calls.send(() -> Receipt.of(as(closer).close(channelId.bytes(), BigInteger.ZERO, BigInteger.ZERO,
                new byte[0]).send()));
    }

    /**
     * During the challenge period, stores {@code participant}'s {@code proof} if its total is larger
     * than the stored one. Any signer may submit it: a watchtower defending an offline participant.
     */
    public Receipt updateBalanceProof(Signer submitter, Address participant, BalanceProof proof,
                                      ChannelSignature signature) {
        return Calls.send(() -> Receipt.of(as(submitter).updateBalanceProof(proof.channelId().bytes(),
                participant.hex(), proof.nonce().value(), proof.transferred().baseUnits(), signature.bytes()).send()));
    }

    /** Settles a closing channel after its challenge period; any signer may submit it. */
    public Receipt settle(Signer submitter, Bytes32 channelId) {
        return Calls.send(() -> Receipt.of(as(submitter).settle(channelId.bytes()).send()));
    }

    /** Pays {@code participant}'s payout that the token refused at settlement to {@code to}. */
    public Receipt claim(Signer participant, Bytes32 channelId, Address to) {
        return Calls.send(() -> Receipt.of(as(participant).claim(channelId.bytes(), to.hex()).send()));
    }

    /** The channel as stored; state {@link ChannelState#NONE} for an unknown id. */
    public PaymentChannel channel(Bytes32 channelId) {
        PaymentChannels.ChannelView c = Calls.call(() -> reader().getChannel(channelId.bytes()).send());
        long closesAt = c.closesAt.longValueExact();
        return new PaymentChannel(channelId, ChannelState.fromOrdinal(c.state.intValueExact()), Address.of(c.token),
                Duration.ofSeconds(c.challengePeriod.longValueExact()),
                closesAt == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(closesAt)), c.closedByA,
                participant(c.a), participant(c.b));
    }

    /** The payouts a settle would give now: A's, then B's. */
    public List<Amount> payouts(Bytes32 channelId) {
        var p = Calls.call(() -> reader().payouts(channelId.bytes()).send());
        return List.of(Amount.of(p.component1()), Amount.of(p.component2()));
    }

    /** The protocol's shortest challenge period, fixed at deployment. */
    public Duration minChallengePeriod() {
        return Duration.ofSeconds(Calls.call(() -> reader().minChallengePeriod().send()).longValueExact());
    }

    /** The id the next channel from {@code participantA} to {@code participantB} in {@code token} gets. */
    public Bytes32 nextChannelId(Address participantA, Address participantB, Address token) {
        return new Bytes32(Calls.call(() -> reader().nextChannelId(participantA.hex(), participantB.hex(),
                token.hex()).send()));
    }

    /** The contract's own digest of a balance proof; equal to {@code typedDataSigner().digest(proof)}. */
    public Bytes32 balanceProofDigest(BalanceProof proof) {
        return new Bytes32(Calls.call(() -> reader().balanceProofDigest(proof.channelId().bytes(),
                proof.nonce().value(), proof.transferred().baseUnits()).send()));
    }

    /** The channel event {@code log} holds, if it is one of this contract's events (e.g. from a log follower). */
    public static Optional<ChannelEvent> decode(Log log) {
        return EVENTS.decode(List.of(log)).stream().findFirst();
    }

    /** The contract's events in blocks {@code fromBlock..toBlock} (inclusive), in log order. */
    public List<ChannelEvent> events(long fromBlock, long toBlock) {
        return EVENTS.decode(logs.between(fromBlock, toBlock));
    }

    private static ChannelParticipant participant(PaymentChannels.Participant p) {
        return new ChannelParticipant(Address.of(p.account), Address.of(p.signingKey), Amount.of(p.deposit),
                Amount.of(p.withdrawn), new ChannelNonce(p.nonce), Amount.of(p.transferred), Amount.of(p.unclaimed));
    }

    private static ChannelEvent opened(Log log) {
        var e = PaymentChannels.getChannelOpenedEventFromLog(log);
        return new ChannelEvent.Opened(new Bytes32(e.channelId), Address.of(e.participantA),
                Address.of(e.participantB), Address.of(e.token), Address.of(e.signingKeyA), Amount.of(e.depositA),
                Duration.ofSeconds(e.challengePeriod.longValueExact()), LogPosition.of(log));
    }

    private static ChannelEvent accepted(Log log) {
        var e = PaymentChannels.getChannelAcceptedEventFromLog(log);
        return new ChannelEvent.Accepted(new Bytes32(e.channelId), Address.of(e.participantB),
                Address.of(e.signingKeyB), Amount.of(e.depositB), LogPosition.of(log));
    }

    private static ChannelEvent deposited(Log log) {
        var e = PaymentChannels.getChannelDepositedEventFromLog(log);
        return new ChannelEvent.Deposited(new Bytes32(e.channelId), Address.of(e.participant), Amount.of(e.amount),
                Amount.of(e.totalDeposit), LogPosition.of(log));
    }

    private static ChannelEvent withdrawn(Log log) {
        var e = PaymentChannels.getChannelWithdrawnEventFromLog(log);
        return new ChannelEvent.Withdrawn(new Bytes32(e.channelId), Address.of(e.participant), Amount.of(e.amount),
                Amount.of(e.totalWithdrawn), LogPosition.of(log));
    }

    private static ChannelEvent closed(Log log) {
        var e = PaymentChannels.getChannelClosedEventFromLog(log);
        return new ChannelEvent.Closed(new Bytes32(e.channelId), Address.of(e.closer), new ChannelNonce(e.nonce),
                Amount.of(e.transferred), Instant.ofEpochSecond(e.closesAt.longValueExact()), LogPosition.of(log));
    }

    private static ChannelEvent balanceProofUpdated(Log log) {
        var e = PaymentChannels.getChannelBalanceProofUpdatedEventFromLog(log);
        return new ChannelEvent.BalanceProofUpdated(new Bytes32(e.channelId), Address.of(e.participant),
                Address.of(e.submitter), new ChannelNonce(e.nonce), Amount.of(e.transferred), LogPosition.of(log));
    }

    private static ChannelEvent settled(Log log) {
        var e = PaymentChannels.getChannelSettledEventFromLog(log);
        return new ChannelEvent.Settled(new Bytes32(e.channelId), Amount.of(e.payoutA), Amount.of(e.payoutB),
                e.cooperative, LogPosition.of(log));
    }

    private static ChannelEvent paidOut(Log log) {
        var e = PaymentChannels.getChannelPaidOutEventFromLog(log);
        return new ChannelEvent.PaidOut(new Bytes32(e.channelId), Address.of(e.participant), Address.of(e.to),
                Amount.of(e.amount), LogPosition.of(log));
    }

    private static ChannelEvent payoutRefused(Log log) {
        var e = PaymentChannels.getChannelPayoutRefusedEventFromLog(log);
        return new ChannelEvent.PayoutRefused(new Bytes32(e.channelId), Address.of(e.participant),
                Amount.of(e.amount), LogPosition.of(log));
    }

    private PaymentChannels as(Signer signer) {
        return PaymentChannels.load(address.hex(), client.web3j(), signer.transactionManager(), signer.gasProvider());
    }

    private PaymentChannels reader() {
        return PaymentChannels.load(address.hex(), client.web3j(), client.readOnly(), client.readGasProvider());
    }
}
