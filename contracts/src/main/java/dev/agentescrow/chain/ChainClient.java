package dev.agentescrow.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.OkHttpClient;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.BatchRequest;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthBlock;
import org.web3j.protocol.core.methods.response.EthEstimateGas;
import org.web3j.protocol.core.methods.response.EthMaxPriorityFeePerGas;
import org.web3j.protocol.core.methods.response.EthGasPrice;
import org.web3j.protocol.core.methods.response.EthGetTransactionReceipt;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.exceptions.ClientConnectionException;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;
import org.web3j.tx.TransactionManager;
import org.web3j.tx.gas.ContractGasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

/**
 * One connection to a chain. Hands out one {@link Signer} per key, so that every sender in this
 * process shares that key's nonce sequence.
 */
public final class ChainClient implements AutoCloseable {
    /** Gas limit for deployments; generous, as local chains charge nothing real for it. */
    private static final BigInteger DEPLOY_GAS_LIMIT = BigInteger.valueOf(12_000_000);

    private final ChainSettings settings;
    private final Web3j web3j;
    private final RevertDecoder revertDecoder;
    private final Map<Address, Signer> signers = new ConcurrentHashMap<>();
    private final TransactionManager readOnly;
    private final ContractGasProvider readGasProvider;

    private final HttpService http;

    private ChainClient(ChainSettings settings, HttpService http, RevertDecoder revertDecoder) {
        this.settings = settings;
        this.http = http;
        this.web3j = Web3j.build(http);
        this.revertDecoder = revertDecoder;
        this.readOnly = new ReadOnlyCalls(web3j, revertDecoder);
        this.readGasProvider = new EstimatingGasProvider(web3j, revertDecoder, DEPLOY_GAS_LIMIT);
    }

    /** A transaction manager for reads only (from the zero address); it cannot send. */
    public TransactionManager readOnly() {
        return readOnly;
    }

    /** The gas provider to pair with {@link #readOnly()}; never used to send. */
    public ContractGasProvider readGasProvider() {
        return readGasProvider;
    }

    /** Connects over HTTP; checks that the node's chain id is the configured one. */
    public static ChainClient connect(ChainSettings settings) {
        ChainClient client = new ChainClient(settings, new HttpService(settings.rpcUrl()),
                RevertDecoder.forWrappers(Contracts.WRAPPERS));
        long actual = client.chainId();
        if (actual != settings.chainId()) {
            client.close();
            throw new ChainException("node at " + settings.rpcUrl() + " has chain id " + actual
                    + ", configured " + settings.chainId());
        }
        return client;
    }

    /**
     * Connects over HTTP with {@code httpTimeout} as the connect, read, write and whole-call timeout,
     * so that a node that stops answering fails a call quickly instead of after OkHttp's default
     * (10 s per phase); checks the chain id like {@link #connect(ChainSettings)}.
     */
    public static ChainClient connect(ChainSettings settings, Duration httpTimeout) {
        if (httpTimeout.isNegative() || httpTimeout.isZero()) {
            throw new IllegalArgumentException("httpTimeout must be positive: " + httpTimeout);
        }
        OkHttpClient okHttp = HttpService.getOkHttpClientBuilder()
                .connectTimeout(httpTimeout).readTimeout(httpTimeout).writeTimeout(httpTimeout).callTimeout(httpTimeout)
                .build();
        ChainClient client = new ChainClient(settings, new HttpService(settings.rpcUrl(), okHttp),
                RevertDecoder.forWrappers(Contracts.WRAPPERS));
        long actual;
        try {
            actual = client.chainId();
        } catch (ChainException e) {
            client.close();
            throw e;
        }
        if (actual != settings.chainId()) {
            client.close();
            throw new ChainException("node at " + settings.rpcUrl() + " has chain id " + actual
                    + ", configured " + settings.chainId());
        }
        return client;
    }

    public ChainSettings settings() {
        return settings;
    }

    public Web3j web3j() {
        return web3j;
    }

    public RevertDecoder revertDecoder() {
        return revertDecoder;
    }

    /** The signer for {@code credentials}'s key; the same instance for the same key. */
    public Signer signer(Credentials credentials) {
        return signers.computeIfAbsent(Address.of(credentials.getAddress()), a -> new Signer(credentials,
                new SerialNonceTransactionManager(web3j, credentials, settings.chainId(),
                        new PollingTransactionReceiptProcessor(web3j, settings.receiptPollInterval().toMillis(),
                                settings.receiptPollAttempts()),
                        revertDecoder),
                new EstimatingGasProvider(web3j, revertDecoder, DEPLOY_GAS_LIMIT)));
    }

    public long chainId() {
        try {
            return Quantities.longOf(web3j.ethChainId().send().getResult());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_chainId failed at " + settings.rpcUrl(), e);
        }
    }

    public long blockNumber() {
        try {
            return Quantities.longOf(web3j.ethBlockNumber().send().getResult());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_blockNumber failed", e);
        }
    }

    /** Hash of block {@code number}; fails if the chain has no such block yet. */
    public Bytes32 blockHash(long number) {
        try {
            var block = web3j.ethGetBlockByNumber(DefaultBlockParameter.valueOf(BigInteger.valueOf(number)), false)
                    .send().getBlock();
            if (block == null) {
                throw new ChainException("no block " + number + " yet");
            }
            return Bytes32.fromHex(block.getHash());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getBlockByNumber failed", e);
        }
    }

    /** Native (gas) token balance of an account, in wei. */
    public BigInteger nativeBalance(Address account) {
        try {
            return Quantities.of(web3j.ethGetBalance(account.hex(), DefaultBlockParameterName.LATEST)
                    .send().getResult());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getBalance failed", e);
        }
    }

    /** Sends a raw JSON-RPC request that web3j has no typed method for (e.g. {@code evm_snapshot}). */
    public String rawRequest(String method, List<?> params) {
        try {
            var response = new Request<>(method, params,
                    http, RawResponse.class).send();
            if (response.hasError()) {
                throw new ChainException(method + " failed: " + response.getError().getMessage());
            }
            return String.valueOf(response.getResult());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException(method + " failed", e);
        }
    }

    /**
     * The account's next nonce counting mined transactions only ({@code latest}): a transaction
     * of the account with a lower nonce can never be mined any more.
     */
    public long minedNonce(Address account) {
        try {
            var response = web3j.ethGetTransactionCount(account.hex(), DefaultBlockParameterName.LATEST).send();
            if (response.hasError()) {
                throw new ChainException("eth_getTransactionCount failed: " + response.getError().getMessage());
            }
            return Quantities.longOf(response.getResult());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getTransactionCount failed", e);
        }
    }

    /** The account's next nonce counting transactions the node holds but has not mined ({@code pending}). */
    public long pendingNonce(Address account) {
        try {
            var response = web3j.ethGetTransactionCount(account.hex(), DefaultBlockParameterName.PENDING).send();
            if (response.hasError()) {
                throw new ChainException("eth_getTransactionCount failed: " + response.getError().getMessage());
            }
            return Quantities.longOf(response.getResult());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getTransactionCount failed", e);
        }
    }

    /**
     * Signs a call of {@code to} with {@code data} from {@code credentials}'s key at {@code nonce},
     * without sending it: gas limit from {@code eth_estimateGas} plus 20%, gas price from the node,
     * EIP-155 legacy signature for this client's chain id. Both values are asked for in one
     * JSON-RPC batch, so preparing costs one round trip. A call that would revert fails here with
     * the decoded {@link ContractRevertedException}; nothing leaves the process.
     *
     * <p>The caller owns {@code nonce}: the key's {@link Signer} does not learn of it, and its own
     * counter resynchronises only after the node refuses one of its sends. A key is best used on
     * one of the two paths only (the settlement operator's is used here alone).
     */
    public PreparedTransaction prepare(Credentials credentials, Address to, String data, long nonce) {
        Address from = Address.of(credentials.getAddress());
        List<Response<?>> answers = batch("preparing a call to " + to,
                web3j.ethEstimateGas(Transaction.createEthCallTransaction(from.hex(), to.hex(), data)),
                web3j.ethGasPrice());
        EthEstimateGas estimate = (EthEstimateGas) answers.get(0);
        if (estimate.hasError()) {
            throw SerialNonceTransactionManager.revertException(revertDecoder, "gas estimate of a call to " + to,
                    estimate.getError());
        }
        EthGasPrice gasPrice = (EthGasPrice) answers.get(1);
        if (gasPrice.hasError()) {
            throw new ChainException("eth_gasPrice failed: " + gasPrice.getError().getMessage());
        }
        BigInteger gasLimit = Quantities.of(estimate.getResult()).multiply(BigInteger.valueOf(12)).divide(BigInteger.TEN);
        RawTransaction raw = RawTransaction.createTransaction(BigInteger.valueOf(nonce), Quantities.of(gasPrice.getResult()),
                gasLimit, to.hex(), BigInteger.ZERO, data);
        String signed = Numeric.toHexString(TransactionEncoder.signMessage(raw, settings.chainId(), credentials));
        return new PreparedTransaction(new TxHash(Hash.sha3(signed)), nonce, signed, from, to);
    }

    /**
     * The node's fee market for the next block: the base fee of the {@code pending} block and the
     * node's suggested priority fee ({@code eth_maxPriorityFeePerGas}), in one JSON-RPC batch.
     */
    public FeeMarket feeMarket() {
        List<Response<?>> answers = batch("reading the fee market",
                web3j.ethGetBlockByNumber(DefaultBlockParameterName.PENDING, false),
                web3j.ethMaxPriorityFeePerGas());
        EthBlock pending = (EthBlock) answers.get(0);
        if (pending.hasError() || pending.getBlock() == null) {
            throw new ChainException("eth_getBlockByNumber(pending) failed: "
                    + (pending.hasError() ? pending.getError().getMessage() : "no block"));
        }
        EthMaxPriorityFeePerGas priority = (EthMaxPriorityFeePerGas) answers.get(1);
        if (priority.hasError()) {
            throw new ChainException("eth_maxPriorityFeePerGas failed: " + priority.getError().getMessage());
        }
        String baseFee = pending.getBlock().getBaseFeePerGasRaw();
        if (baseFee == null) {
            throw new ChainException("the node's pending block has no base fee: not an EIP-1559 chain");
        }
        return new FeeMarket(Quantities.of(baseFee), Quantities.of(priority.getResult()));
    }

    /**
     * Signs an EIP-1559 (type 2) call of {@code to} with {@code data} from {@code credentials}'s
     * key at {@code nonce} with {@code fees}, without sending it: gas limit from
     * {@code eth_estimateGas} plus 20%. A call that would revert fails here with the decoded
     * {@link ContractRevertedException}; nothing leaves the process. The caller owns {@code nonce},
     * as with {@link #prepare(Credentials, Address, String, long)}.
     */
    public PreparedTransaction prepare(Credentials credentials, Address to, String data, long nonce, GasFees fees) {
        Address from = Address.of(credentials.getAddress());
        EthEstimateGas estimate;
        try {
            estimate = web3j.ethEstimateGas(Transaction.createEthCallTransaction(from.hex(), to.hex(), data)).send();
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("gas estimate of a call to " + to + " failed", e);
        }
        if (estimate.hasError()) {
            throw SerialNonceTransactionManager.revertException(revertDecoder, "gas estimate of a call to " + to,
                    estimate.getError());
        }
        BigInteger gasLimit = Quantities.of(estimate.getResult()).multiply(BigInteger.valueOf(12)).divide(BigInteger.TEN);
        return sign1559(credentials, BigInteger.valueOf(nonce), gasLimit, to, BigInteger.ZERO, data, fees);
    }

    /**
     * Signs a replacement of {@code previous}: the same nonce, recipient, value, call data and gas
     * limit, with other {@code fees}, as an EIP-1559 transaction. Nothing is asked of the node and
     * nothing is sent. Whether a node takes it in place of {@code previous} depends on the fees
     * (nodes ask for at least 10 to 12.5% more of both); that is the caller's policy.
     *
     * @throws IllegalArgumentException if {@code previous} was not signed by {@code credentials}'s key
     */
    public PreparedTransaction replace(Credentials credentials, PreparedTransaction previous, GasFees fees) {
        Address from = Address.of(credentials.getAddress());
        if (!previous.from().equals(from)) {
            throw new IllegalArgumentException(previous + " was signed by " + previous.from() + ", not " + from);
        }
        RawTransaction old = previous.decode();
        if (old.getNonce().longValueExact() != previous.nonce()) {
            throw new IllegalStateException("stored bytes of " + previous.txHash() + " have nonce " + old.getNonce());
        }
        Address to = Address.of(old.getTo());
        if (!to.equals(previous.to())) {
            throw new IllegalStateException("stored bytes of " + previous.txHash() + " call " + to);
        }
        return sign1559(credentials, old.getNonce(), old.getGasLimit(), to, old.getValue(),
                Numeric.prependHexPrefix(old.getData()), fees);
    }

    private PreparedTransaction sign1559(Credentials credentials, BigInteger nonce, BigInteger gasLimit, Address to,
                                         BigInteger value, String data, GasFees fees) {
        RawTransaction raw = RawTransaction.createTransaction(settings.chainId(), nonce, gasLimit, to.hex(), value,
                data, fees.maxPriorityFeePerGas(), fees.maxFeePerGas());
        String signed = Numeric.toHexString(TransactionEncoder.signMessage(raw, credentials));
        return new PreparedTransaction(new TxHash(Hash.sha3(signed)), nonce.longValueExact(), signed,
                Address.of(credentials.getAddress()), to);
    }

    /**
     * The receipts of {@code txHashes} in one JSON-RPC batch: the mined ones, in the order asked
     * (for every attempt at one nonce, at most one can be mined).
     */
    public List<MinedReceipt> receipts(List<TxHash> txHashes) {
        if (txHashes.isEmpty()) {
            return List.of();
        }
        @SuppressWarnings("unchecked")
        Request<?, ? extends Response<?>>[] requests = txHashes.stream()
                .map(hash -> web3j.ethGetTransactionReceipt(hash.value())).toArray(Request[]::new);
        List<Response<?>> answers = batch("eth_getTransactionReceipt of " + txHashes.size() + " transactions",
                requests);
        List<MinedReceipt> mined = new ArrayList<>();
        for (int i = 0; i < txHashes.size(); i++) {
            minedReceipt(txHashes.get(i), (EthGetTransactionReceipt) answers.get(i)).ifPresent(mined::add);
        }
        return mined;
    }

    /** What the node said to a {@link #broadcast}. */
    public enum BroadcastOutcome {
        /** The node took the transaction now. */
        ACCEPTED,
        /** The node already had this very transaction (pending or mined): same hash, nothing new. */
        ALREADY_KNOWN,
        /** The nonce was consumed by another transaction of the sender; these bytes can never be mined. */
        NONCE_CONSUMED
    }

    /**
     * What {@link #broadcastAndPoll} learned in its one round trip.
     *
     * @param outcome what the node said to the transaction
     * @param receipt its receipt if the node had mined it by the time it answered the poll (a
     *                node that mines on arrival usually has); empty otherwise, and always for
     *                {@link BroadcastOutcome#NONCE_CONSUMED}
     */
    public record Broadcast(BroadcastOutcome outcome, Optional<MinedReceipt> receipt) {
        public Broadcast {
            if (outcome == BroadcastOutcome.NONCE_CONSUMED && receipt.isPresent()) {
                throw new IllegalArgumentException("a transaction whose nonce was consumed has no receipt");
            }
        }
    }

    /**
     * Sends the prepared bytes ({@code eth_sendRawTransaction}). Sending the same bytes again is
     * harmless: a node that knows the hash (pending or mined) answers {@link BroadcastOutcome#ALREADY_KNOWN}.
     * A "nonce too low" answer for a transaction the node does not know is
     * {@link BroadcastOutcome#NONCE_CONSUMED}. A revert answer (Hardhat reports a transaction that
     * reverted while automining this way; it is mined as failed) raises the decoded
     * {@link ContractRevertedException}; any other error a {@link ChainException}.
     */
    public BroadcastOutcome broadcast(PreparedTransaction transaction) {
        try {
            return outcome(transaction, web3j.ethSendRawTransaction(transaction.rawTransactionHex()).send());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_sendRawTransaction failed for " + transaction.txHash(), e);
        }
    }

    /**
     * {@link #broadcast}, and in the same JSON-RPC batch the first poll for the receipt
     * ({@code eth_getTransactionReceipt} right behind {@code eth_sendRawTransaction}): on a node
     * that mines on arrival, one round trip usually sends the transaction and returns its receipt.
     * Nodes may run the calls of a batch concurrently (Hardhat does), so the poll can come before
     * the mining: an empty receipt means "poll again", never "not mined".
     */
    public Broadcast broadcastAndPoll(PreparedTransaction transaction) {
        List<Response<?>> answers = batch("eth_sendRawTransaction of " + transaction.txHash(),
                web3j.ethSendRawTransaction(transaction.rawTransactionHex()),
                web3j.ethGetTransactionReceipt(transaction.txHash().value()));
        BroadcastOutcome outcome = outcome(transaction, (EthSendTransaction) answers.get(0));
        if (outcome == BroadcastOutcome.NONCE_CONSUMED) {
            return new Broadcast(outcome, Optional.empty());
        }
        return new Broadcast(outcome, minedReceipt(transaction.txHash(), (EthGetTransactionReceipt) answers.get(1)));
    }

    /** What the node's answer to {@code eth_sendRawTransaction} of {@code transaction} means. */
    private BroadcastOutcome outcome(PreparedTransaction transaction, EthSendTransaction sent) {
        if (!sent.hasError()) {
            TxHash answered = new TxHash(sent.getTransactionHash());
            if (!answered.equals(transaction.txHash())) {
                throw new ChainException("node answered hash " + answered + " for " + transaction);
            }
            return BroadcastOutcome.ACCEPTED;
        }
        String message = String.valueOf(sent.getError().getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("already known") || message.contains("known transaction")) {
            return BroadcastOutcome.ALREADY_KNOWN;
        }
        if (message.contains("nonce too low")) {
            return knows(transaction.txHash()) ? BroadcastOutcome.ALREADY_KNOWN : BroadcastOutcome.NONCE_CONSUMED;
        }
        throw SerialNonceTransactionManager.revertException(revertDecoder, "broadcast of " + transaction,
                sent.getError());
    }

    /** The receipt of a mined transaction, or empty if the node has not mined (or does not know) it. */
    public Optional<MinedReceipt> receipt(TxHash txHash) {
        try {
            return minedReceipt(txHash, web3j.ethGetTransactionReceipt(txHash.value()).send());
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getTransactionReceipt failed", e);
        }
    }

    private static Optional<MinedReceipt> minedReceipt(TxHash txHash, EthGetTransactionReceipt response) {
        if (response.hasError()) {
            throw new ChainException("eth_getTransactionReceipt failed: " + response.getError().getMessage());
        }
        Optional<TransactionReceipt> receipt = response.getTransactionReceipt();
        return receipt.map(r -> new MinedReceipt(txHash,
                Quantities.statusOk(r.getStatus()) ? MinedReceipt.Status.SUCCEEDED : MinedReceipt.Status.FAILED,
                Quantities.longOf(r.getBlockNumberRaw()), Quantities.longOf(r.getGasUsedRaw())));
    }

    /**
     * {@code eth_call}s of {@code to} with each of {@code data} at the latest block, as one
     * JSON-RPC batch (one HTTP round trip): the raw results, in order. A call the node answers with
     * an error (a revert, too) is a {@link ChainException}.
     */
    public List<String> calls(Address to, List<String> data) {
        if (data.isEmpty()) {
            return List.of();
        }
        @SuppressWarnings("unchecked")
        Request<?, ? extends Response<?>>[] requests = data.stream()
                .map(d -> web3j.ethCall(Transaction.createEthCallTransaction(null, to.hex(), d),
                        DefaultBlockParameterName.LATEST))
                .toArray(Request[]::new);
        List<String> results = new ArrayList<>(requests.length);
        for (Response<?> answer : batch("batched eth_call", requests)) {
            if (answer.hasError()) {
                throw new ChainException("eth_call failed: " + answer.getError().getMessage());
            }
            results.add(((org.web3j.protocol.core.methods.response.EthCall) answer).getValue());
        }
        return results;
    }

    /**
     * Sends {@code requests} as one JSON-RPC batch (one HTTP round trip; the node runs them in
     * order) and returns their answers in request order. Answers are matched by id, so a node
     * that reorders them is still read correctly; a missing answer is a {@link ChainException}.
     */
    @SafeVarargs
    private List<Response<?>> batch(String what, Request<?, ? extends Response<?>>... requests) {
        BatchRequest batch = web3j.newBatch();
        for (Request<?, ? extends Response<?>> request : requests) {
            batch.add(request);
        }
        List<? extends Response<?>> answers;
        try {
            answers = batch.send().getResponses();
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException(what + " failed", e);
        } catch (ClassCastException e) {
            throw new ChainException(what + " failed: the node did not answer the batch with an array", e);
        }
        Map<Long, Response<?>> byId = new HashMap<>();
        for (Response<?> answer : answers) {
            byId.put(answer.getId(), answer);
        }
        List<Response<?>> ordered = new ArrayList<>(requests.length);
        for (Request<?, ? extends Response<?>> request : requests) {
            Response<?> answer = byId.get(request.getId());
            if (answer == null) {
                throw new ChainException(what + " failed: no answer to " + request.getMethod() + " (id "
                        + request.getId() + ") in the batch");
            }
            ordered.add(answer);
        }
        return ordered;
    }

    private boolean knows(TxHash txHash) {
        try {
            var response = web3j.ethGetTransactionByHash(txHash.value()).send();
            if (response.hasError()) {
                throw new ChainException("eth_getTransactionByHash failed: " + response.getError().getMessage());
            }
            return response.getTransaction().isPresent();
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getTransactionByHash failed", e);
        }
    }

    /** Untyped JSON-RPC response. */
    public static final class RawResponse extends Response<Object> {
    }

    @Override
    public void close() {
        web3j.shutdown();
    }
}
