package dev.agentescrow.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.http.HttpService;
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
            return web3j.ethChainId().send().getChainId().longValueExact();
        } catch (IOException e) {
            throw new ChainException("eth_chainId failed at " + settings.rpcUrl(), e);
        }
    }

    public long blockNumber() {
        try {
            return web3j.ethBlockNumber().send().getBlockNumber().longValueExact();
        } catch (IOException e) {
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
        } catch (IOException e) {
            throw new ChainException("eth_getBlockByNumber failed", e);
        }
    }

    /** Native (gas) token balance of an account, in wei. */
    public BigInteger nativeBalance(Address account) {
        try {
            return web3j.ethGetBalance(account.hex(), DefaultBlockParameterName.LATEST)
                    .send().getBalance();
        } catch (IOException e) {
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
        } catch (IOException e) {
            throw new ChainException(method + " failed", e);
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
