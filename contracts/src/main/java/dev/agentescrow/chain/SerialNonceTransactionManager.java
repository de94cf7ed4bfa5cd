package dev.agentescrow.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.TransactionReceiptProcessor;

/**
 * A transaction manager for one key that many threads may share. Nonces come from a local
 * counter, and signing plus sending happen under one lock, so that concurrent sends never reuse
 * a nonce nor reach the node out of order (Hardhat's automine rejects nonce gaps). Waiting for
 * receipts happens outside the lock. After any rejected send the counter is read again from the
 * node's pending count, so that a failed send never leaves a gap; a send refused as "nonce too
 * low" (the key was used elsewhere) is signed again once at the node's count.
 *
 * <p>A send that the node rejects because the contract reverts raises a
 * {@link ContractRevertedException} with the decoded custom error; so does a reverting call.
 */
public final class SerialNonceTransactionManager extends RawTransactionManager {
    private final Web3j web3j;
    private final RevertDecoder revertDecoder;
    private final ReentrantLock sendLock = new ReentrantLock();
    private BigInteger nextNonce;

    public SerialNonceTransactionManager(Web3j web3j, Credentials credentials, long chainId,
                                         TransactionReceiptProcessor receiptProcessor, RevertDecoder revertDecoder) {
        super(web3j, credentials, chainId, receiptProcessor);
        this.web3j = web3j;
        this.revertDecoder = revertDecoder;
    }

    @Override
    protected BigInteger getNonce() throws IOException {
        if (!sendLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("nonces are handed out only while sending");
        }
        if (nextNonce == null) {
            nextNonce = Quantities.of(web3j.ethGetTransactionCount(getFromAddress(), DefaultBlockParameterName.PENDING)
                    .send().getResult());
        }
        BigInteger nonce = nextNonce;
        nextNonce = nextNonce.add(BigInteger.ONE);
        return nonce;
    }

    @Override
    public EthSendTransaction sendTransaction(BigInteger gasPrice, BigInteger gasLimit, String to, String data,
                                              BigInteger value, boolean constructor) throws IOException {
        return serialized(() -> super.sendTransaction(gasPrice, gasLimit, to, data, value, constructor));
    }

    @Override
    public EthSendTransaction sendEIP1559Transaction(long chainId, BigInteger maxPriorityFeePerGas,
                                                     BigInteger maxFeePerGas, BigInteger gasLimit, String to,
                                                     String data, BigInteger value, boolean constructor)
            throws IOException {
        return serialized(() -> super.sendEIP1559Transaction(chainId, maxPriorityFeePerGas, maxFeePerGas, gasLimit,
                to, data, value, constructor));
    }

    /** One signing and sending step of the superclass, run while holding the key's send lock. */
    @FunctionalInterface
    private interface SendStep {
        EthSendTransaction send() throws IOException;
    }

    /**
     * Runs {@code step} under the lock; after a rejected send the next nonce is read from the node
     * again. A send refused because its nonce was already used (another process signed with this
     * key, e.g. a second client of the same dev account) is signed again once with the node's
     * pending count: the refused transaction never entered the pool, so nothing is sent twice.
     */
    private EthSendTransaction serialized(SendStep step) throws IOException {
        sendLock.lock();
        try {
            EthSendTransaction sent = step.send();
            if (sent.hasError() && isNonceTooLow(sent.getError())) {
                nextNonce = null;
                sent = step.send();
            }
            return checked(sent);
        } catch (IOException | RuntimeException e) {
            nextNonce = null;
            throw e;
        } finally {
            sendLock.unlock();
        }
    }

    /** Whether the node refused a send because its nonce is below the sender's count. */
    static boolean isNonceTooLow(Response.Error error) {
        String message = error.getMessage();
        return message != null && message.toLowerCase(java.util.Locale.ROOT).contains("nonce too low");
    }

    @Override
    public String sendCall(String to, String data, DefaultBlockParameter block) throws IOException {
        return call(web3j, revertDecoder, getFromAddress(), to, data, block);
    }

    /** {@code eth_call}; a revert raises {@link ContractRevertedException} with the decoded error. */
    static String call(Web3j web3j, RevertDecoder decoder, String from, String to, String data,
                       DefaultBlockParameter block) throws IOException {
        EthCall call = web3j.ethCall(Transaction.createEthCallTransaction(from, to, data), block).send();
        if (call.hasError()) {
            throw revertException(decoder, "call to " + to, call.getError());
        }
        return call.getValue();
    }

    private EthSendTransaction checked(EthSendTransaction sent) {
        if (sent.hasError()) {
            throw reverted("transaction from " + getFromAddress(), sent.getError());
        }
        return sent;
    }

    private ChainException reverted(String what, Response.Error error) {
        return revertException(revertDecoder, what, error);
    }

    /** Maps a JSON-RPC error to a {@link ContractRevertedException} when it carries revert data. */
    static ChainException revertException(RevertDecoder decoder, String what, Response.Error error) {
        String data = revertData(error.getData());
        if (data == null && !error.getMessage().contains("revert")) {
            return new ChainException(what + " failed: " + error.getMessage());
        }
        var decoded = decoder.decode(data);
        String name = decoded.map(RevertDecoder.DecodedError::name).orElse(null);
        String detail = decoded.map(Object::toString).orElse(error.getMessage());
        return new ContractRevertedException(what + " reverted: " + detail, name, data);
    }

    private static String revertData(String data) {
        if (data == null) {
            return null;
        }
        String trimmed = data.trim();
        if (trimmed.startsWith("\"")) {
            trimmed = trimmed.substring(1, trimmed.length() - 1);
        }
        if (trimmed.startsWith("0x")) {
            return trimmed;
        }
        // Some nodes wrap the data in an object: {"message": ..., "data": "0x..."}.
        int at = trimmed.indexOf("\"data\"");
        if (at >= 0) {
            int start = trimmed.indexOf("0x", at);
            if (start >= 0) {
                int end = start + 2;
                while (end < trimmed.length() && Character.digit(trimmed.charAt(end), 16) >= 0) {
                    end++;
                }
                return trimmed.substring(start, end);
            }
        }
        return null;
    }
}
