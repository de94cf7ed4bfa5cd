package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Calls;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ContractLogs;
import dev.agentescrow.chain.Erc20Permit;
import dev.agentescrow.chain.Erc20PermitSigner;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.GasFees;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.wrappers.SettlementVault;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.DynamicBytes;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.protocol.core.methods.response.Log;

/**
 * The SettlementVault seen through the gateway: deposits (approve + deposit, or one EIP-2612
 * permit call), netted batch settlement from a {@link SettlementBatch} (the gateway resolves
 * addresses to the vault's compact ids and packs the calldata), payout claims, the escape hatch,
 * pause, and the events the off-chain indexer reads. Reads need no key; writes name the signer.
 */
public final class SettlementVaultGateway {
    private final ChainClient client;
    private final Address address;
    private final ContractLogs logs;
    private final Erc20PermitSigner permits;
    private final Map<Address, Long> accountIds = new ConcurrentHashMap<>();
    private final Map<Address, Long> tokenIds = new ConcurrentHashMap<>();
    /**
     * The read-only wrapper, built once: it holds no state a call changes (its default block is
     * never set), so every thread shares it; building one per call was a large share of
     * settlement's allocation.
     */
    private final SettlementVault reader;

    public SettlementVaultGateway(ChainClient client, Address address) {
        this.client = client;
        this.address = address;
        this.logs = new ContractLogs(client, address);
        this.permits = new Erc20PermitSigner(client);
        this.reader = SettlementVault.load(address.hex(), client.web3j(), client.readOnly(), client.readGasProvider());
    }

    /**
     * Deploys a vault whose forced-withdrawal window equals {@code escapeDelay} and whose operator
     * delay is twice that: {@code admin} lists tokens and may pause, {@code operator} settles batches.
     */
    public static SettlementVaultGateway deploy(ChainClient client, Signer deployer, Address admin, Address operator,
                                                Duration escapeDelay) {
        return deploy(client, deployer, admin, operator, escapeDelay, escapeDelay, escapeDelay.multipliedBy(2));
    }

    /**
     * Deploys a vault. The vault refuses an {@code operatorDelay} not longer than the
     * {@code forcedWithdrawalWindow} ({@code VaultInvalidOperatorDelay}) and an {@code escapeDelay}
     * shorter than it ({@code VaultInvalidEscapeDelay}).
     */
    public static SettlementVaultGateway deploy(ChainClient client, Signer deployer, Address admin, Address operator,
                                                Duration escapeDelay, Duration forcedWithdrawalWindow,
                                                Duration operatorDelay) {
        SettlementVault vault = Calls.send(() -> SettlementVault.deploy(client.web3j(), deployer.transactionManager(),
                deployer.gasProvider(), admin.hex(), operator.hex(), BigInteger.valueOf(escapeDelay.toSeconds()),
                BigInteger.valueOf(forcedWithdrawalWindow.toSeconds()), BigInteger.valueOf(operatorDelay.toSeconds()))
                .send());
        return new SettlementVaultGateway(client, Address.of(vault.getContractAddress()));
    }

    public Address address() {
        return address;
    }

    // ------------------------------------------------------------------ writes

    /** Approves the vault for {@code amount} of {@code token}, then deposits it: two transactions. */
    public Receipt deposit(Signer account, Address token, Amount amount) {
        new Erc20Token(client, token).approve(account, address, amount);
        return Calls.send(() -> Receipt.of(as(account).deposit(token.hex(), amount.baseUnits()).send()));
    }

    /** Deposits with an EIP-2612 permit signed here: one transaction, no prior approval. */
    public Receipt depositWithPermit(Signer account, Address token, Amount amount, Instant deadline) {
        return depositWithPermit(account, token, permits.sign(account, token, address, amount, deadline));
    }

    /** The data of {@code depositWithPermit} for a permit the account signed for the vault (sent elsewhere). */
    public String encodeDepositWithPermit(Address token, Erc20Permit permit) {
        return reader().depositWithPermit(token.hex(), permit.value().baseUnits(), permit.deadlineSeconds(),
                BigInteger.valueOf(permit.v()), permit.r().bytes(), permit.s().bytes()).encodeFunctionCall();
    }

    /** Deposits {@code permit.value()} of {@code token} with a permit the account signed beforehand for the vault. */
    public Receipt depositWithPermit(Signer account, Address token, Erc20Permit permit) {
        return Calls.send(() -> Receipt.of(as(account).depositWithPermit(token.hex(), permit.value().baseUnits(),
                permit.deadlineSeconds(), BigInteger.valueOf(permit.v()), permit.r().bytes(), permit.s().bytes())
                .send()));
    }

    /**
     * Settles {@code batch}: resolves every token and account to the vault's id, packs the deltas
     * and payouts and sends {@code settleBatch}. Throws {@link IllegalArgumentException} for a
     * token or account that never deposited (the vault has no id for it).
     */
    public Receipt settleBatch(Signer operator, SettlementBatch batch) {
        byte[] packed = BatchEncoder.encode(batch, this::tokenId, this::accountId);
        return Calls.send(() -> Receipt.of(as(operator).settleBatch(BigInteger.valueOf(batch.batchId()),
                batch.merkleRoot().bytes(), packed).send()));
    }

    /**
     * Signs, without sending, the same {@code settleBatch} call as {@link #settleBatch} at the
     * operator's {@code nonce} (see {@link ChainClient#prepare}), so that its hash can be stored
     * before it is broadcast with {@link ChainClient#broadcast}. Gas is estimated against the
     * current state: a batch the vault would refuse (e.g. {@code VaultBatchIdMismatch},
     * {@code VaultInsufficientBalance}) raises the decoded {@link dev.agentescrow.chain.ContractRevertedException}
     * here. Signs with the operator's key only; its transaction manager's nonce counter is not used.
     */
    public PreparedTransaction prepareSettleBatch(Signer operator, SettlementBatch batch, long nonce) {
        return client.prepare(operator.credentials(), address, settleBatchData(batch), nonce);
    }

    /**
     * As {@link #prepareSettleBatch(Signer, SettlementBatch, long)}, signed as an EIP-1559
     * transaction with {@code fees} (see {@link ChainClient#prepare(org.web3j.crypto.Credentials,
     * Address, String, long, GasFees)}); a stuck one is replaced with
     * {@link ChainClient#replace}.
     */
    public PreparedTransaction prepareSettleBatch(Signer operator, SettlementBatch batch, long nonce,
                                                  GasFees fees) {
        return client.prepare(operator.credentials(), address, settleBatchData(batch), nonce, fees);
    }

    private String settleBatchData(SettlementBatch batch) {
        byte[] packed = BatchEncoder.encode(batch, this::tokenId, this::accountId);
        org.web3j.abi.datatypes.Function call = new org.web3j.abi.datatypes.Function(SettlementVault.FUNC_SETTLEBATCH, List.of(
                new Uint64(BigInteger.valueOf(batch.batchId())),
                new org.web3j.abi.datatypes.generated.Bytes32(batch.merkleRoot().bytes()),
                new DynamicBytes(packed)), List.of());
        return FunctionEncoder.encode(call);
    }

    /** The vault's {@code MAX_REGISTER_ACCOUNTS}: accounts one {@code registerAccounts} call may name. */
    public static final int MAX_REGISTER_ACCOUNTS = 256;

    /**
     * Gives each of {@code accounts} without a vault account id one (operator only), so that a
     * batch can credit accounts that never deposited. Accounts that have an id are skipped.
     */
    public Receipt registerAccounts(Signer operator, List<Address> accounts) {
        return Calls.send(() -> Receipt.of(as(operator).registerAccounts(hexes(accounts)).send()));
    }

    /**
     * Signs, without sending, {@code registerAccounts(accounts)} at the operator's {@code nonce}
     * (see {@link ChainClient#prepare}); send it with {@link ChainClient#broadcastAndPoll}.
     */
    public PreparedTransaction prepareRegisterAccounts(Signer operator, List<Address> accounts, long nonce) {
        return client.prepare(operator.credentials(), address, registerAccountsData(accounts), nonce);
    }

    /** As {@link #prepareRegisterAccounts(Signer, List, long)}, signed as an EIP-1559 transaction with {@code fees}. */
    public PreparedTransaction prepareRegisterAccounts(Signer operator, List<Address> accounts, long nonce,
                                                       GasFees fees) {
        return client.prepare(operator.credentials(), address, registerAccountsData(accounts), nonce, fees);
    }

    private static String registerAccountsData(List<Address> accounts) {
        org.web3j.abi.datatypes.Function call = new org.web3j.abi.datatypes.Function(
                SettlementVault.FUNC_REGISTERACCOUNTS, List.of(new DynamicArray<>(
                        org.web3j.abi.datatypes.Address.class,
                        hexes(accounts).stream().map(org.web3j.abi.datatypes.Address::new).toList())),
                List.of());
        return FunctionEncoder.encode(call);
    }

    private static List<String> hexes(List<Address> accounts) {
        if (accounts.isEmpty() || accounts.size() > MAX_REGISTER_ACCOUNTS) {
            throw new IllegalArgumentException("registerAccounts takes 1 to " + MAX_REGISTER_ACCOUNTS
                    + " accounts: " + accounts.size());
        }
        return accounts.stream().map(Address::hex).toList();
    }

    /** Lists {@code token} (admin only): only listed tokens can be deposited. */
    public Receipt listToken(Signer admin, Address token, TokenLimits limits) {
        return Calls.send(() -> Receipt.of(as(admin).listToken(token.hex(), limits.minForcedWithdrawal().baseUnits(),
                limits.outflowLimit().baseUnits()).send()));
    }

    /** Changes a listed token's limits (admin only). */
    public Receipt setTokenLimits(Signer admin, Address token, TokenLimits limits) {
        return Calls.send(() -> Receipt.of(as(admin).setTokenLimits(token.hex(),
                limits.minForcedWithdrawal().baseUnits(), limits.outflowLimit().baseUnits()).send()));
    }

    /** Sends {@code to} the vault's {@code token} that no account or pending payout owns (admin only). */
    public Receipt sweepStray(Signer admin, Address token, Address to) {
        return Calls.send(() -> Receipt.of(as(admin).sweepStray(token.hex(), to.hex()).send()));
    }

    /**
     * Asks on chain to withdraw {@code amount} of {@code token} from the caller's settled balance; a
     * batch must serve it within the forced-withdrawal window, else anyone may {@link #freeze}.
     */
    public Receipt requestForcedWithdrawal(Signer account, Address token, Amount amount) {
        return Calls.send(() -> Receipt.of(as(account).requestForcedWithdrawal(token.hex(), amount.baseUnits()).send()));
    }

    /** Freezes the vault for good because {@code account}'s forced withdrawal of {@code token} is overdue. */
    public Receipt freeze(Signer caller, Address token, Address account) {
        return Calls.send(() -> Receipt.of(as(caller).freeze(token.hex(), account.hex()).send()));
    }

    /** Sends the caller's pending payouts of {@code token} to {@code to}. */
    public Receipt claimPayout(Signer recipient, Address token, Address to) {
        return Calls.send(() -> Receipt.of(as(recipient).claimPayout(token.hex(), to.hex()).send()));
    }

    /** Takes the caller's whole settled balance of {@code token} out; once frozen, or once the hatch is open (which freezes). */
    public Receipt escapeWithdraw(Signer account, Address token) {
        return Calls.send(() -> Receipt.of(as(account).escapeWithdraw(token.hex()).send()));
    }

    public Receipt pause(Signer admin) {
        return Calls.send(() -> Receipt.of(as(admin).pause().send()));
    }

    public Receipt unpause(Signer admin) {
        return Calls.send(() -> Receipt.of(as(admin).unpause().send()));
    }

    // ------------------------------------------------------------------ reads

    public Amount settledBalance(Address token, Address account) {
        return Amount.of(Calls.call(() -> reader().settledBalance(token.hex(), account.hex()).send()));
    }

    public Amount pendingPayout(Address token, Address recipient) {
        return Amount.of(Calls.call(() -> reader().pendingPayout(token.hex(), recipient.hex()).send()));
    }

    /** The id of the last settled batch, 0 before the first; the next batch must be this + 1. */
    public long lastBatchId() {
        return Calls.call(() -> reader().lastBatchId().send()).longValueExact();
    }

    /** When the escape hatch opens if no further batch settles. */
    public Instant escapeOpensAt() {
        return Instant.ofEpochSecond(Calls.call(() -> reader().escapeOpensAt().send()).longValueExact());
    }

    public boolean paused() {
        return Calls.call(() -> reader().paused().send());
    }

    /** Whether the vault is frozen for good (no batch settles any more). */
    public boolean frozen() {
        return Calls.call(() -> reader().frozen().send());
    }

    public Duration forcedWithdrawalWindow() {
        return Duration.ofSeconds(Calls.call(() -> reader().forcedWithdrawalWindow().send()).longValueExact());
    }

    /** {@code account}'s open forced withdrawal of {@code token}: amount and deadline, if any. */
    public Optional<OpenForcedWithdrawal> forcedWithdrawal(Address token, Address account) {
        var open = Calls.call(() -> reader().forcedWithdrawal(token.hex(), account.hex()).send());
        return open.component1().signum() == 0 ? Optional.empty()
                : Optional.of(new OpenForcedWithdrawal(Amount.of(open.component1()),
                        Instant.ofEpochSecond(open.component2().longValueExact())));
    }

    /** An open forced withdrawal: what was requested, and by when a batch must serve it. */
    public record OpenForcedWithdrawal(Amount amount, Instant deadline) {
    }

    /** What the vault owes in {@code token}: settled balances plus pending payouts. */
    public Amount custody(Address token) {
        return Amount.of(Calls.call(() -> reader().custody(token.hex()).send()));
    }

    /** How much of {@code token} payouts and claims may still send in the current outflow window. */
    public Amount outflowAvailable(Address token) {
        return Amount.of(Calls.call(() -> reader().outflowAvailable(token.hex()).send()));
    }

    /** The root the vault keeps for {@code batchId} (one of the last 4,096 batches). */
    public Bytes32 batchRoot(long batchId) {
        return new Bytes32(Calls.call(() -> reader().batchRoot(BigInteger.valueOf(batchId)).send()));
    }

    /**
     * Asks the vault ({@code verifyTransfer}) whether {@code proof} shows the transfer leaf
     * (transferId, token, from, to, amount) under the root it keeps for batch {@code batchId} (one
     * of the last 4,096; older ones revert {@code VaultRootUnavailable}). OpenZeppelin
     * StandardMerkleTree leaf and sorted-pair hashing.
     */
    public boolean verifyTransfer(long batchId, List<Bytes32> proof, Bytes32 transferId, Address token,
                                  Address from, Address to, Amount amount) {
        List<byte[]> siblings = proof.stream().map(Bytes32::bytes).toList();
        return Calls.call(() -> reader().verifyTransfer(BigInteger.valueOf(batchId), siblings, transferId.bytes(),
                token.hex(), from.hex(), to.hex(), amount.baseUnits()).send());
    }

    /** {@code Deposited} events in blocks {@code [fromBlock, toBlock]}, in chain order. */
    public List<VaultDeposit> depositsBetween(long fromBlock, long toBlock) {
        return logs.between(fromBlock, toBlock, SettlementVault.DEPOSITED_EVENT).stream().map(log -> {
            SettlementVault.DepositedEventResponse event = SettlementVault.getDepositedEventFromLog(log);
            return new VaultDeposit(Address.of(event.token), Address.of(event.account), event.accountId.longValueExact(),
                    Amount.of(event.amount), LogPosition.of(log));
        }).toList();
    }

    /** {@code BatchSettled} events in blocks {@code [fromBlock, toBlock]}, in chain order. */
    public List<BatchSettled> batchesSettledBetween(long fromBlock, long toBlock) {
        return logs.between(fromBlock, toBlock, SettlementVault.BATCHSETTLED_EVENT).stream().map(log -> {
            SettlementVault.BatchSettledEventResponse event = SettlementVault.getBatchSettledEventFromLog(log);
            return new BatchSettled(event.batchId.longValueExact(), new Bytes32(event.merkleRoot),
                    event.entries.longValueExact(), LogPosition.of(log));
        }).toList();
    }

    /** {@code PayoutSent} and {@code PayoutDeferred} events in blocks {@code [fromBlock, toBlock]}, in chain order. */
    public List<VaultPayout> payoutsBetween(long fromBlock, long toBlock) {
        List<VaultPayout> payouts = new ArrayList<>();
        for (Log log : logs.between(fromBlock, toBlock, SettlementVault.PAYOUTSENT_EVENT)) {
            SettlementVault.PayoutSentEventResponse event = SettlementVault.getPayoutSentEventFromLog(log);
            payouts.add(payout(log, event.batchId, event.token, event.recipient, event.accountId, event.amount,
                    VaultPayout.Outcome.SENT));
        }
        for (Log log : logs.between(fromBlock, toBlock, SettlementVault.PAYOUTDEFERRED_EVENT)) {
            SettlementVault.PayoutDeferredEventResponse event = SettlementVault.getPayoutDeferredEventFromLog(log);
            payouts.add(payout(log, event.batchId, event.token, event.recipient, event.accountId, event.amount,
                    VaultPayout.Outcome.DEFERRED));
        }
        payouts.sort(Comparator.comparing(VaultPayout::position, LogPosition.CHAIN_ORDER));
        return List.copyOf(payouts);
    }

    /** {@code EscapeWithdrawn} events in blocks {@code [fromBlock, toBlock]}, in chain order. */
    public List<EscapeWithdrawal> escapeWithdrawalsBetween(long fromBlock, long toBlock) {
        return logs.between(fromBlock, toBlock, SettlementVault.ESCAPEWITHDRAWN_EVENT).stream().map(log -> {
            SettlementVault.EscapeWithdrawnEventResponse event = SettlementVault.getEscapeWithdrawnEventFromLog(log);
            return new EscapeWithdrawal(Address.of(event.token), Address.of(event.account), Amount.of(event.amount),
                    LogPosition.of(log));
        }).toList();
    }

    /** {@code ForcedWithdrawalRequested} events in blocks {@code [fromBlock, toBlock]}, in chain order. */
    public List<ForcedWithdrawalRequest> forcedWithdrawalRequestsBetween(long fromBlock, long toBlock) {
        return logs.between(fromBlock, toBlock, SettlementVault.FORCEDWITHDRAWALREQUESTED_EVENT).stream().map(log -> {
            var event = SettlementVault.getForcedWithdrawalRequestedEventFromLog(log);
            return new ForcedWithdrawalRequest(Address.of(event.token), Address.of(event.account),
                    event.accountId.longValueExact(), Amount.of(event.amount),
                    Instant.ofEpochSecond(event.deadline.longValueExact()), LogPosition.of(log));
        }).toList();
    }

    /** {@code ForcedWithdrawalServed} events in blocks {@code [fromBlock, toBlock]}, in chain order. */
    public List<ForcedWithdrawalServed> forcedWithdrawalsServedBetween(long fromBlock, long toBlock) {
        return logs.between(fromBlock, toBlock, SettlementVault.FORCEDWITHDRAWALSERVED_EVENT).stream().map(log -> {
            var event = SettlementVault.getForcedWithdrawalServedEventFromLog(log);
            return new ForcedWithdrawalServed(event.batchId.longValueExact(), Address.of(event.token),
                    Address.of(event.account), Amount.of(event.requested), Amount.of(event.paid), LogPosition.of(log));
        }).toList();
    }

    /** {@code Frozen} events in blocks {@code [fromBlock, toBlock]} (at most one per vault). */
    public List<VaultFrozen> frozenBetween(long fromBlock, long toBlock) {
        return logs.between(fromBlock, toBlock, SettlementVault.FROZEN_EVENT).stream().map(log -> {
            var event = SettlementVault.getFrozenEventFromLog(log);
            return new VaultFrozen(Address.of(event.by), Address.of(event.token), Address.of(event.account),
                    LogPosition.of(log));
        }).toList();
    }

    private static VaultPayout payout(Log log, BigInteger batchId, String token, String recipient, BigInteger accountId,
                                      BigInteger amount, VaultPayout.Outcome outcome) {
        return new VaultPayout(batchId.longValueExact(), Address.of(token), Address.of(recipient),
                accountId.longValueExact(), Amount.of(amount), outcome, LogPosition.of(log));
    }

    /**
     * The account registered under {@code accountId} (ids count up from 1 in order of first
     * deposit), or empty past the last registered id.
     */
    public Optional<Address> accountWithId(long accountId) {
        if (accountId < 1 || accountId > BatchEncoder.MAX_ACCOUNT_ID) {
            return Optional.empty();
        }
        Address account = Address.of(Calls.call(() -> reader().accountOf(BigInteger.valueOf(accountId)).send()));
        return account.equals(Address.ZERO) ? Optional.empty() : Optional.of(account);
    }

    /**
     * Whether the vault has an id for {@code account}, i.e. whether it ever deposited. A batch can
     * name only such accounts.
     */
    public boolean knowsAccount(Address account) {
        if (accountIds.containsKey(account)) {
            return true;
        }
        long id = Calls.call(() -> reader().accountIdOf(account.hex()).send()).longValueExact();
        if (id == 0) {
            return false;
        }
        accountIds.putIfAbsent(account, id);
        return true;
    }

    /** Accounts one {@link #unknownAccounts} round trip asks about. */
    static final int ACCOUNT_IDS_PER_CALL = 200;

    /**
     * The accounts among {@code accounts} that the vault has no id for, in their order. Ids already
     * known come from the cache; the others are asked in JSON-RPC batches of
     * {@value #ACCOUNT_IDS_PER_CALL} {@code accountIdOf} calls (one round trip each, instead of one
     * per account) and cached once assigned.
     */
    public List<Address> unknownAccounts(java.util.Collection<Address> accounts) {
        List<Address> ask = accounts.stream().distinct().filter(account -> !accountIds.containsKey(account)).toList();
        List<Address> unknown = new ArrayList<>();
        for (int from = 0; from < ask.size(); from += ACCOUNT_IDS_PER_CALL) {
            List<Address> chunk = ask.subList(from, Math.min(ask.size(), from + ACCOUNT_IDS_PER_CALL));
            List<String> results = client.calls(address, chunk.stream()
                    .map(account -> reader().accountIdOf(account.hex()).encodeFunctionCall()).toList());
            for (int i = 0; i < chunk.size(); i++) {
                String hex = results.get(i);
                BigInteger id = hex == null || hex.length() <= 2 ? BigInteger.ZERO : new BigInteger(hex.substring(2), 16);
                if (id.signum() == 0) {
                    unknown.add(chunk.get(i));
                } else {
                    accountIds.putIfAbsent(chunk.get(i), id.longValueExact());
                }
            }
        }
        return unknown;
    }

    /** The vault's id of {@code account}; an id never changes once assigned, so it is cached. */
    private long accountId(Address account) {
        return accountIds.computeIfAbsent(account, a -> {
            long id = Calls.call(() -> reader().accountIdOf(a.hex()).send()).longValueExact();
            if (id == 0) {
                throw new IllegalArgumentException("account " + a + " never deposited into vault " + address);
            }
            return id;
        });
    }

    /** The vault's id of {@code token}; cached like account ids. */
    private long tokenId(Address token) {
        return tokenIds.computeIfAbsent(token, t -> {
            long id = Calls.call(() -> reader().tokenIdOf(t.hex()).send()).longValueExact();
            if (id == 0) {
                throw new IllegalArgumentException("token " + t + " is not listed in vault " + address);
            }
            return id;
        });
    }


    private SettlementVault as(Signer signer) {
        return SettlementVault.load(address.hex(), client.web3j(), signer.transactionManager(), signer.gasProvider());
    }

    private SettlementVault reader() {
        return reader;
    }
}
