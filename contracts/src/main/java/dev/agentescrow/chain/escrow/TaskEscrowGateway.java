package dev.agentescrow.chain.escrow;

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
import dev.agentescrow.chain.wrappers.TaskEscrow;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.web3j.crypto.Hash;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.tuples.generated.Tuple4;

/**
 * The TaskEscrow contract seen through the gateway: per-task ERC-20 escrows with payee
 * acceptance (by call or EIP-712 signature), release, refund after the deadline (payer first,
 * then anyone), disputes with an arbiter deadline and a fallback, and pull fees. Reads need no
 * key; writes name the signer. Reverts surface as {@link dev.agentescrow.chain.ContractRevertedException} whose
 * {@code errorName()} is the contract's custom error (e.g. {@code EscrowDeadlineNotReached}).
 */
public final class TaskEscrowGateway {
    private static final EventDecoder<EscrowEvent> EVENTS = EventDecoder.of(Map.of(
            TaskEscrow.CREATED_EVENT, TaskEscrowGateway::created,
            TaskEscrow.RELEASED_EVENT, TaskEscrowGateway::released,
            TaskEscrow.ACCEPTED_EVENT, TaskEscrowGateway::accepted,
            TaskEscrow.FUNDED_EVENT, log -> new EscrowEvent.Funded(new Bytes32(
                    TaskEscrow.getFundedEventFromLog(log).id), LogPosition.of(log)),
            TaskEscrow.COMPLETED_EVENT, log -> new EscrowEvent.Completed(new Bytes32(
                    TaskEscrow.getCompletedEventFromLog(log).id), LogPosition.of(log)),
            TaskEscrow.REJECTED_EVENT, TaskEscrowGateway::rejected,
            TaskEscrow.EXPIRED_EVENT, TaskEscrowGateway::expired,
            TaskEscrow.DISPUTED_EVENT, TaskEscrowGateway::disputed,
            TaskEscrow.RESOLVED_EVENT, TaskEscrowGateway::resolved,
            TaskEscrow.FALLBACKAPPLIED_EVENT, TaskEscrowGateway::fallbackApplied));

    /** The admin transfer delay {@link #deploy(ChainClient, Signer, Address, Address, BasisPoints)} uses. */
    public static final Duration DEFAULT_ADMIN_DELAY = Duration.ofDays(2);

    private static final int ABI_WORD_BYTES = 32;

    private final ChainClient client;
    private final Address address;
    private final ContractLogs logs;
    private final Erc20PermitSigner permits;

    public TaskEscrowGateway(ChainClient client, Address address) {
        this.client = Objects.requireNonNull(client, "client");
        this.address = Objects.requireNonNull(address, "address");
        this.logs = new ContractLogs(client, address);
        this.permits = new Erc20PermitSigner(client);
    }

    /**
     * Deploys a TaskEscrow for local chains and tests: {@code admin} gets the default admin role
     * (with {@link #DEFAULT_ADMIN_DELAY}) and the fee manager role. Production splits the roles:
     * see {@link #deploy(ChainClient, Signer, Address, Duration, Address, Address, BasisPoints)}.
     */
    public static TaskEscrowGateway deploy(ChainClient client, Signer deployer, Address admin, Address feeRecipient,
                                           BasisPoints fee) {
        return deploy(client, deployer, admin, DEFAULT_ADMIN_DELAY, admin, feeRecipient, fee);
    }

    /**
     * Deploys a TaskEscrow. {@code admin} gets the default admin role, handed over only in two
     * steps {@code adminDelay} apart; {@code feeManager} the fee manager role; {@code fee} (at most
     * 1,000 bp) applies to escrows created from then on, whose fees accrue to {@code feeRecipient}.
     */
    public static TaskEscrowGateway deploy(ChainClient client, Signer deployer, Address admin, Duration adminDelay,
                                           Address feeManager, Address feeRecipient, BasisPoints fee) {
        TaskEscrow contract = Calls.send(() -> TaskEscrow.deploy(client.web3j(), deployer.transactionManager(),
                deployer.gasProvider(), admin.hex(), BigInteger.valueOf(adminDelay.toSeconds()), feeManager.hex(),
                feeRecipient.hex(), fee.toBigInteger()).send());
        return new TaskEscrowGateway(client, Address.of(contract.getContractAddress()));
    }

    public Address address() {
        return address;
    }

    /**
     * The id under which the contract stores {@code payer}'s escrow for {@code taskId}, computed
     * here exactly as the contract's {@code escrowId} view does:
     * {@code keccak256(abi.encode(payer, taskId))}, the hash of the payer address left-padded to
     * 32 bytes followed by the 32 bytes of the task id. Known before the create is sent.
     */
    public static Bytes32 escrowId(Address payer, TaskId taskId) {
        byte[] encoded = new byte[2 * ABI_WORD_BYTES];
        byte[] account = HexFormat.of().parseHex(payer.hex().substring(2));
        System.arraycopy(account, 0, encoded, ABI_WORD_BYTES - account.length, account.length);
        System.arraycopy(taskId.value().bytes(), 0, encoded, ABI_WORD_BYTES, ABI_WORD_BYTES);
        return new Bytes32(Hash.sha3(encoded));
    }

    /**
     * Approves the escrow for the total of the shares (unless the allowance already covers it),
     * then creates and funds the payer's escrow for {@code taskId}, stored under
     * {@link #escrowId(Address, TaskId) escrowId(payer, taskId)}. Returns that id and the receipt.
     * A task id the payer used before fails with {@code EscrowAlreadyExists}: a retried create
     * never funds twice.
     */
    public CreatedEscrow create(Signer payer, TaskId taskId, EscrowTerms terms) {
        Erc20Token token = new Erc20Token(client, terms.token());
        Amount total = terms.total();
        if (token.allowance(payer.address(), address).compareTo(total) < 0) {
            token.approve(payer, address, total);
        }
        TransactionReceipt receipt = Calls.send(() -> as(payer).create(taskId.value().bytes(), struct(terms)).send());
        return createdEscrow(payer, taskId, receipt);
    }

    /**
     * Creates and funds the payer's escrow for {@code taskId} in one transaction, with an EIP-2612
     * permit for the total signed here with the payer's key and valid until {@code permitDeadline}.
     */
    public CreatedEscrow createWithPermit(Signer payer, TaskId taskId, EscrowTerms terms, Instant permitDeadline) {
        Erc20Permit permit = permits.sign(payer, terms.token(), address, terms.total(), permitDeadline);
        return createWithPermit(payer, taskId, terms, permit);
    }

    /** Creates and funds the payer's escrow for {@code taskId} with a permit the payer signed beforehand. */
    public CreatedEscrow createWithPermit(Signer payer, TaskId taskId, EscrowTerms terms, Erc20Permit permit) {
        TransactionReceipt receipt = Calls.send(() -> as(payer).createWithPermit(taskId.value().bytes(),
                struct(terms), permit.deadlineSeconds(),
                BigInteger.valueOf(permit.v()), permit.r().bytes(), permit.s().bytes()).send());
        return createdEscrow(payer, taskId, receipt);
    }

    /** The id the create in {@code receipt} logged, checked against the one derived locally. */
    private CreatedEscrow createdEscrow(Signer payer, TaskId taskId, TransactionReceipt receipt) {
        Bytes32 id = escrowId(payer.address(), taskId);
        List<TaskEscrow.CreatedEventResponse> created = TaskEscrow.getCreatedEvents(receipt).stream()
                .filter(e -> address.equals(Address.of(e.log.getAddress()))).toList();
        if (created.size() != 1 || !id.equals(new Bytes32(created.getFirst().id))) {
            throw new ChainException("create in " + receipt.getTransactionHash() + " did not log exactly one Created"
                    + " event for escrow " + id);
        }
        return new CreatedEscrow(id, Receipt.of(receipt));
    }

    /** Payee {@code payeeIndex} (the caller) accepts the terms of the open escrow {@code id}, before its deadline. */
    public Receipt accept(Signer payee, Bytes32 id, int payeeIndex) {
        return Calls.send(() -> Receipt.of(as(payee).accept(id.bytes(), BigInteger.valueOf(payeeIndex)).send()));
    }

    /**
     * Signs payee {@code payeeIndex}'s EIP-712 acceptance of escrow {@code id} (its terms as
     * stored now) with {@code payee}'s key; anyone may submit it with
     * {@link #acceptWithSignature(Signer, Bytes32, int, byte[])}.
     */
    public byte[] signAcceptance(Signer payee, Bytes32 id, int payeeIndex) {
        Escrow escrow = escrow(id).orElseThrow(() -> new IllegalArgumentException("no escrow " + id));
        return EscrowAcceptance.of(escrow, payeeIndex).sign(payee.credentials(), client.chainId(), address);
    }

    /** Submits a payee's acceptance signature; {@code submitter} pays the gas. */
    public Receipt acceptWithSignature(Signer submitter, Bytes32 id, int payeeIndex, byte[] signature) {
        byte[] copy = signature.clone();
        return Calls.send(() -> Receipt.of(as(submitter).acceptWithSignature(id.bytes(),
                BigInteger.valueOf(payeeIndex), copy).send()));
    }

    /** The contract's EIP-712 digest of payee {@code payeeIndex}'s acceptance of escrow {@code id}. */
    public Bytes32 acceptanceDigest(Bytes32 id, int payeeIndex) {
        return new Bytes32(Calls.call(() -> reader().acceptanceDigest(id.bytes(), BigInteger.valueOf(payeeIndex)).send()));
    }

    /** The payer cancels an open escrow that no payee accepted, getting everything back. */
    public Receipt cancel(Signer payer, Bytes32 id) {
        return Calls.send(() -> Receipt.of(as(payer).cancel(id.bytes()).send()));
    }

    /** Releases {@code amount} of the share of payee {@code payeeIndex} (payer or evaluator; per-payee escrows). */
    public Receipt release(Signer caller, Bytes32 id, int payeeIndex, Amount amount) {
        return Calls.send(() -> Receipt.of(as(caller).release(id.bytes(), BigInteger.valueOf(payeeIndex),
                amount.baseUnits()).send()));
    }

    /** Releases every payee's whole remaining share and closes the escrow (payer or evaluator). */
    public Receipt releaseAll(Signer caller, Bytes32 id) {
        return Calls.send(() -> Receipt.of(as(caller).releaseAll(id.bytes()).send()));
    }

    /** After the deadline, sends what the escrow holds back to its payer: the payer during the grace period, then anyone. */
    public Receipt refund(Signer caller, Bytes32 id) {
        return Calls.send(() -> Receipt.of(as(caller).refund(id.bytes()).send()));
    }

    /** Disputes the funded escrow (payer or a payee, until the deadline plus the grace period). */
    public Receipt dispute(Signer caller, Bytes32 id) {
        return Calls.send(() -> Receipt.of(as(caller).dispute(id.bytes()).send()));
    }

    /**
     * Resolves a disputed escrow (arbiter only): payee {@code i} gets {@code payeeAmounts.get(i)}
     * of its remaining share minus the fee, the payer {@code payerAmount}; the amounts must add
     * up exactly to what the escrow holds.
     */
    public Receipt resolve(Signer arbiter, Bytes32 id, List<Amount> payeeAmounts, Amount payerAmount) {
        List<BigInteger> amounts = payeeAmounts.stream().map(Amount::baseUnits).toList();
        return Calls.send(() -> Receipt.of(as(arbiter).resolve(id.bytes(), amounts, payerAmount.baseUnits()).send()));
    }

    /** After the arbiter's deadline, applies the escrow's fallback; anyone may call. */
    public Receipt applyFallback(Signer caller, Bytes32 id) {
        return Calls.send(() -> Receipt.of(as(caller).applyFallback(id.bytes()).send()));
    }

    /** Pays {@code recipient}'s accrued fees in {@code token} to {@code to}. */
    public Receipt claimFees(Signer recipient, Address token, Address to) {
        return Calls.send(() -> Receipt.of(as(recipient).claimFees(token.hex(), to.hex()).send()));
    }

    /** Fees in {@code token} accrued to {@code recipient} and not yet claimed. */
    public Amount feesOwed(Address token, Address recipient) {
        return Amount.of(Calls.call(() -> reader().feesOwed(token.hex(), recipient.hex()).send()));
    }

    /** Sets the fee for escrows created from now on (fee manager only; at most 1,000 bp). */
    public Receipt setFee(Signer feeManager, BasisPoints fee) {
        return Calls.send(() -> Receipt.of(as(feeManager).setFeeBps(fee.toBigInteger()).send()));
    }

    /** Sets who accrues the fees of escrows created from now on (fee manager only). */
    public Receipt setFeeRecipient(Signer feeManager, Address feeRecipient) {
        return Calls.send(() -> Receipt.of(as(feeManager).setFeeRecipient(feeRecipient.hex()).send()));
    }

    /** The fee an escrow created now would carry. */
    public BasisPoints fee() {
        return BasisPoints.of(Calls.call(() -> reader().feeBps().send()).intValueExact());
    }

    public Address feeRecipient() {
        return Address.of(Calls.call(() -> reader().feeRecipient().send()));
    }

    /** Escrow {@code id} with its payees, read at one block; empty if no escrow has this id. */
    public Optional<Escrow> escrow(Bytes32 id) {
        TaskEscrow reader = reader(DefaultBlockParameter.valueOf(BigInteger.valueOf(client.blockNumber())));
        TaskEscrow.EscrowInfo info = Calls.call(() -> reader.getEscrow(id.bytes()).send());
        EscrowState state = EscrowState.ofOrdinal(info.state.intValueExact());
        if (state == EscrowState.NONE) {
            return Optional.empty();
        }
        Tuple4<List<String>, List<BigInteger>, List<BigInteger>, List<Boolean>> payees =
                Calls.call(() -> reader.getPayees(id.bytes()).send());
        List<PayeePosition> positions = new ArrayList<>();
        for (int i = 0; i < payees.component1().size(); i++) {
            positions.add(new PayeePosition(Address.of(payees.component1().get(i)),
                    Amount.of(payees.component2().get(i)), Amount.of(payees.component3().get(i)),
                    payees.component4().get(i)));
        }
        long arbitrationDeadline = info.arbitrationDeadline.longValueExact();
        return Optional.of(new Escrow(id, state, Address.of(info.token), Address.of(info.payer),
                Address.of(info.arbiter), Address.of(info.evaluator), Instant.ofEpochSecond(info.deadline.longValueExact()),
                BasisPoints.of(info.feeBps.intValueExact()), BasisPoints.of(info.maxFeeBps.intValueExact()),
                FallbackRule.ofOrdinal(info.fallbackRule.intValueExact()), ReleaseMode.of(info.atomic),
                new Bytes32(info.termsHash), Address.of(info.feeRecipient), Amount.of(info.amount), Amount.of(info.held),
                arbitrationDeadline == 0 ? Optional.empty() : Optional.of(Instant.ofEpochSecond(arbitrationDeadline)),
                positions));
    }

    /** The escrow events logged by this contract in the transaction of {@code receipt}, in log order. */
    public List<EscrowEvent> events(Receipt receipt) {
        return EVENTS.decode(logs.inTransaction(receipt.txHash()));
    }

    /** The escrow events of every escrow in blocks {@code fromBlock..toBlock} (inclusive), in log order. */
    public List<EscrowEvent> events(long fromBlock, long toBlock) {
        return EVENTS.decode(logs.between(fromBlock, toBlock));
    }

    /** The events of escrow {@code id} in blocks {@code fromBlock..toBlock} (inclusive), in log order. */
    public List<EscrowEvent> events(Bytes32 id, long fromBlock, long toBlock) {
        return EVENTS.decode(logs.between(fromBlock, toBlock, null, id.hex()));
    }

    /** The escrow event {@code log} holds, if it is one of this contract's escrow events (e.g. from a log follower). */
    public static Optional<EscrowEvent> decode(Log log) {
        return EVENTS.decode(List.of(log)).stream().findFirst();
    }

    // ------------------------------------------------------------------ calls to sign elsewhere (ABI-encoded data)

    /** The data of {@code create(taskId, terms)} (the payer sends it after approving the total). */
    public String encodeCreate(TaskId taskId, EscrowTerms terms) {
        return reader().create(taskId.value().bytes(), struct(terms)).encodeFunctionCall();
    }

    /** The data of {@code createWithPermit(taskId, terms, permit...)} for a permit the payer signed. */
    public String encodeCreateWithPermit(TaskId taskId, EscrowTerms terms, Erc20Permit permit) {
        return reader().createWithPermit(taskId.value().bytes(), struct(terms), permit.deadlineSeconds(),
                BigInteger.valueOf(permit.v()), permit.r().bytes(), permit.s().bytes()).encodeFunctionCall();
    }

    public String encodeAccept(Bytes32 id, int payeeIndex) {
        return reader().accept(id.bytes(), BigInteger.valueOf(payeeIndex)).encodeFunctionCall();
    }

    public String encodeAcceptWithSignature(Bytes32 id, int payeeIndex, byte[] signature) {
        return reader().acceptWithSignature(id.bytes(), BigInteger.valueOf(payeeIndex), signature.clone())
                .encodeFunctionCall();
    }

    public String encodeCancel(Bytes32 id) {
        return reader().cancel(id.bytes()).encodeFunctionCall();
    }

    public String encodeRelease(Bytes32 id, int payeeIndex, Amount amount) {
        return reader().release(id.bytes(), BigInteger.valueOf(payeeIndex), amount.baseUnits()).encodeFunctionCall();
    }

    public String encodeReleaseAll(Bytes32 id) {
        return reader().releaseAll(id.bytes()).encodeFunctionCall();
    }

    public String encodeRefund(Bytes32 id) {
        return reader().refund(id.bytes()).encodeFunctionCall();
    }

    public String encodeDispute(Bytes32 id) {
        return reader().dispute(id.bytes()).encodeFunctionCall();
    }

    public String encodeResolve(Bytes32 id, List<Amount> payeeAmounts, Amount payerAmount) {
        return reader().resolve(id.bytes(), payeeAmounts.stream().map(Amount::baseUnits).toList(),
                payerAmount.baseUnits()).encodeFunctionCall();
    }

    public String encodeApplyFallback(Bytes32 id) {
        return reader().applyFallback(id.bytes()).encodeFunctionCall();
    }

    public String encodeClaimFees(Address token, Address to) {
        return reader().claimFees(token.hex(), to.hex()).encodeFunctionCall();
    }

    private static EscrowEvent created(Log log) {
        TaskEscrow.CreatedEventResponse e = TaskEscrow.getCreatedEventFromLog(log);
        return new EscrowEvent.Created(new Bytes32(e.id), Address.of(e.payer), Address.of(e.token),
                TaskId.of(new Bytes32(e.taskId)), Amount.of(e.amount),
                BasisPoints.of(e.feeBps.intValueExact()), Instant.ofEpochSecond(e.deadline.longValueExact()),
                ReleaseMode.of(e.atomic), new Bytes32(e.termsHash), LogPosition.of(log));
    }

    private static EscrowEvent released(Log log) {
        TaskEscrow.ReleasedEventResponse e = TaskEscrow.getReleasedEventFromLog(log);
        return new EscrowEvent.Released(new Bytes32(e.id), Address.of(e.payee), Amount.of(e.amount), Amount.of(e.fee),
                LogPosition.of(log));
    }

    private static EscrowEvent accepted(Log log) {
        TaskEscrow.AcceptedEventResponse e = TaskEscrow.getAcceptedEventFromLog(log);
        return new EscrowEvent.Accepted(new Bytes32(e.id), Address.of(e.payee), e.index.intValueExact(),
                LogPosition.of(log));
    }

    private static EscrowEvent rejected(Log log) {
        TaskEscrow.RejectedEventResponse e = TaskEscrow.getRejectedEventFromLog(log);
        return new EscrowEvent.Rejected(new Bytes32(e.id), Address.of(e.payer), Amount.of(e.amount), LogPosition.of(log));
    }

    private static EscrowEvent expired(Log log) {
        TaskEscrow.ExpiredEventResponse e = TaskEscrow.getExpiredEventFromLog(log);
        return new EscrowEvent.Expired(new Bytes32(e.id), Address.of(e.payer), Amount.of(e.amount), LogPosition.of(log));
    }

    private static EscrowEvent disputed(Log log) {
        TaskEscrow.DisputedEventResponse e = TaskEscrow.getDisputedEventFromLog(log);
        return new EscrowEvent.Disputed(new Bytes32(e.id), Address.of(e.by),
                Instant.ofEpochSecond(e.arbitrationDeadline.longValueExact()), LogPosition.of(log));
    }

    private static EscrowEvent fallbackApplied(Log log) {
        TaskEscrow.FallbackAppliedEventResponse e = TaskEscrow.getFallbackAppliedEventFromLog(log);
        return new EscrowEvent.FallbackApplied(new Bytes32(e.id), Address.of(e.by),
                FallbackRule.ofOrdinal(e.fallbackRule.intValueExact()), Amount.of(e.toPayer), LogPosition.of(log));
    }

    private static EscrowEvent resolved(Log log) {
        TaskEscrow.ResolvedEventResponse e = TaskEscrow.getResolvedEventFromLog(log);
        return new EscrowEvent.Resolved(new Bytes32(e.id), Address.of(e.arbiter), Amount.of(e.toPayer), LogPosition.of(log));
    }

    private static TaskEscrow.Terms struct(EscrowTerms terms) {
        return new TaskEscrow.Terms(terms.token().hex(),
                terms.payees().stream().map(p -> p.account().hex()).toList(),
                terms.payees().stream().map(p -> p.share().baseUnits()).toList(),
                terms.arbiter().hex(), terms.evaluator().hex(), BigInteger.valueOf(terms.deadline().getEpochSecond()),
                terms.maxFee().toBigInteger(), BigInteger.valueOf(terms.fallbackRule().ordinal()), terms.mode().atomic(),
                terms.termsHash().bytes());
    }

    private TaskEscrow as(Signer signer) {
        return TaskEscrow.load(address.hex(), client.web3j(), signer.transactionManager(), signer.gasProvider());
    }

    private TaskEscrow reader() {
        return TaskEscrow.load(address.hex(), client.web3j(), client.readOnly(), client.readGasProvider());
    }

    /** A read-only view of the state at {@code block}. */
    private TaskEscrow reader(DefaultBlockParameter block) {
        TaskEscrow reader = reader();
        reader.setDefaultBlockParameter(block);
        return reader;
    }
}
