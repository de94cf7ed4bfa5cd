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
 * {@link #typedDataSigner()}.
 */
public final class PaymentChannelsGateway {
    private static final EventDecoder<ChannelEvent> EVENTS = EventDecoder.of(Map.of(
            PaymentChannels.CHANNELOPENED_EVENT, PaymentChannelsGateway::opened,
            PaymentChannels.CHANNELDEPOSITED_EVENT, PaymentChannelsGateway::deposited,
            PaymentChannels.CHANNELWITHDRAWN_EVENT, PaymentChannelsGateway::withdrawn,
            PaymentChannels.CHANNELCLOSED_EVENT, PaymentChannelsGateway::closed,
            PaymentChannels.CHANNELCHALLENGED_EVENT, PaymentChannelsGateway::challenged,
            PaymentChannels.CHANNELSETTLED_EVENT, PaymentChannelsGateway::settled));

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

    /** Deploys a new PaymentChannels contract. */
    public static PaymentChannelsGateway deploy(ChainClient client, Signer deployer) {
        PaymentChannels contract = Calls.send(() -> PaymentChannels.deploy(client.web3j(),
                deployer.transactionManager(), deployer.gasProvider()).send());
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
     * {@code counterparty} with that deposit.
     */
    public OpenedChannel open(Signer opener, Address counterparty, Erc20Token token, Amount deposit,
                              Duration challengePeriod) {
        if (!deposit.isZero()) {
            token.approve(opener, address, deposit);
        }
        TransactionReceipt receipt = Calls.send(() -> as(opener).open(counterparty.hex(), token.address().hex(),
                deposit.baseUnits(), BigInteger.valueOf(challengePeriod.toSeconds())).send());
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
                token.address().hex(), permit.value().baseUnits(), BigInteger.valueOf(challengePeriod.toSeconds()),
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

    /** Approves and tops up {@code channelId} by {@code amount} from {@code participant}. */
    public Receipt deposit(Signer participant, Bytes32 channelId, Amount amount) {
        Erc20Token token = new Erc20Token(client, channel(channelId).token());
        token.approve(participant, address, amount);
        return Calls.send(() -> Receipt.of(as(participant).deposit(channelId.bytes(), amount.baseUnits()).send()));
    }

    /** Pays a withdrawal out of an open channel; any signer may submit it. */
    public Receipt withdraw(Signer submitter, Withdrawal withdrawal, ChannelSignature signatureA,
                            ChannelSignature signatureB) {
        return Calls.send(() -> Receipt.of(as(submitter).withdraw(withdrawal.channelId().bytes(),
                withdrawal.participant().hex(), withdrawal.amount().baseUnits(), withdrawal.nonce().value(),
                withdrawal.expirySeconds(), signatureA.bytes(), signatureB.bytes()).send()));
    }

    /** Settles a channel at once with both participants' signatures; any signer may submit it. */
    public Receipt cooperativeClose(Signer submitter, CooperativeClose close, ChannelSignature signatureA,
                                    ChannelSignature signatureB) {
        return Calls.send(() -> Receipt.of(as(submitter).cooperativeClose(close.channelId().bytes(),
                close.nonce().value(), close.balanceA().baseUnits(), close.balanceB().baseUnits(),
                signatureA.bytes(), signatureB.bytes()).send()));
    }

    /** Starts the challenge window with {@code proof}, which the closer's counterparty signed. */
    public Receipt closeUnilaterally(Signer closer, BalanceProof proof, ChannelSignature counterpartySignature) {
        return Calls.send(() -> Receipt.of(as(closer).closeUnilaterally(proof.channelId().bytes(),
                proof.nonce().value(), proof.balanceA().baseUnits(), proof.balanceB().baseUnits(),
                counterpartySignature.bytes()).send()));
    }

    /** Starts the challenge window with the deposits as balances (possible only before any withdrawal). */
    public Receipt closeWithoutProof(Signer closer, Bytes32 channelId) {
        return Calls.send(() -> Receipt.of(as(closer).closeWithoutProof(channelId.bytes()).send()));
    }

    /** Replaces the closing balances with a newer {@code proof} signed by the closer. */
    public Receipt challenge(Signer challenger, BalanceProof proof, ChannelSignature closerSignature) {
        return Calls.send(() -> Receipt.of(as(challenger).challenge(proof.channelId().bytes(),
                proof.nonce().value(), proof.balanceA().baseUnits(), proof.balanceB().baseUnits(),
                closerSignature.bytes()).send()));
    }

    /** Pays out a closing channel after its challenge window; any signer may submit it. */
    public Receipt settle(Signer submitter, Bytes32 channelId) {
        return Calls.send(() -> Receipt.of(as(submitter).settle(channelId.bytes()).send()));
    }

    /** The channel as stored; state {@link ChannelState#NONE} for an unknown id. */
    public PaymentChannel channel(Bytes32 channelId) {
        PaymentChannels.Channel c = Calls.call(() -> reader().getChannel(channelId.bytes()).send());
        long closesAt = c.closesAt.longValueExact();
        return new PaymentChannel(channelId, ChannelState.fromOrdinal(c.state.intValueExact()),
                Address.of(c.participantA), Address.of(c.participantB), Address.of(c.token),
                Duration.ofSeconds(c.challengePeriod.longValueExact()),
                closesAt == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(closesAt)), c.closedByA,
                Amount.of(c.depositA), Amount.of(c.depositB), Amount.of(c.withdrawn),
                new ChannelNonce(c.nonceFloor), new ChannelNonce(c.closingNonce), Amount.of(c.closingBalanceA));
    }

    /** The id the next channel from {@code participantA} to {@code participantB} in {@code token} gets. */
    public Bytes32 nextChannelId(Address participantA, Address participantB, Address token) {
        return new Bytes32(Calls.call(() -> reader().nextChannelId(participantA.hex(), participantB.hex(),
                token.hex()).send()));
    }

    /** The contract's own digest of a balance proof; equal to {@code typedDataSigner().digest(proof)}. */
    public Bytes32 balanceProofDigest(BalanceProof proof) {
        return new Bytes32(Calls.call(() -> reader().balanceProofDigest(proof.channelId().bytes(),
                proof.nonce().value(), proof.balanceA().baseUnits(), proof.balanceB().baseUnits()).send()));
    }

    /** The contract's events in blocks {@code fromBlock..toBlock} (inclusive), in log order. */
    public List<ChannelEvent> events(long fromBlock, long toBlock) {
        return EVENTS.decode(logs.between(fromBlock, toBlock));
    }

    private static ChannelEvent opened(Log log) {
        var e = PaymentChannels.getChannelOpenedEventFromLog(log);
        return new ChannelEvent.Opened(new Bytes32(e.channelId), Address.of(e.participantA),
                Address.of(e.participantB), Address.of(e.token), Amount.of(e.depositA),
                Duration.ofSeconds(e.challengePeriod.longValueExact()), LogPosition.of(log));
    }

    private static ChannelEvent deposited(Log log) {
        var e = PaymentChannels.getChannelDepositedEventFromLog(log);
        return new ChannelEvent.Deposited(new Bytes32(e.channelId), Address.of(e.participant), Amount.of(e.amount),
                Amount.of(e.totalDeposit), LogPosition.of(log));
    }

    private static ChannelEvent withdrawn(Log log) {
        var e = PaymentChannels.getChannelWithdrawnEventFromLog(log);
        return new ChannelEvent.Withdrawn(new Bytes32(e.channelId), Address.of(e.participant), Amount.of(e.amount),
                new ChannelNonce(e.nonce), LogPosition.of(log));
    }

    private static ChannelEvent closed(Log log) {
        var e = PaymentChannels.getChannelClosedEventFromLog(log);
        return new ChannelEvent.Closed(new Bytes32(e.channelId), Address.of(e.closer), new ChannelNonce(e.nonce),
                Amount.of(e.balanceA), Amount.of(e.balanceB), Instant.ofEpochSecond(e.closesAt.longValueExact()),
                LogPosition.of(log));
    }

    private static ChannelEvent challenged(Log log) {
        var e = PaymentChannels.getChannelChallengedEventFromLog(log);
        return new ChannelEvent.Challenged(new Bytes32(e.channelId), Address.of(e.challenger),
                new ChannelNonce(e.nonce), Amount.of(e.balanceA), Amount.of(e.balanceB), LogPosition.of(log));
    }

    private static ChannelEvent settled(Log log) {
        var e = PaymentChannels.getChannelSettledEventFromLog(log);
        return new ChannelEvent.Settled(new Bytes32(e.channelId), Amount.of(e.payoutA), Amount.of(e.payoutB),
                e.cooperative, LogPosition.of(log));
    }

    private PaymentChannels as(Signer signer) {
        return PaymentChannels.load(address.hex(), client.web3j(), signer.transactionManager(), signer.gasProvider());
    }

    private PaymentChannels reader() {
        return PaymentChannels.load(address.hex(), client.web3j(), client.readOnly(), client.readGasProvider());
    }
}
