package dev.agentescrow.chain;

import java.util.Objects;
import java.util.regex.Pattern;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionDecoder;
import org.web3j.crypto.transaction.type.Transaction1559;

/**
 * A signed transaction that has not necessarily left the process yet: its hash and nonce are known
 * before it is broadcast, so a caller can persist them first and, after a crash, look the
 * transaction up by hash or broadcast the very same bytes again (which the node treats as the same
 * transaction, never as a second one).
 *
 * @param txHash keccak-256 of the signed bytes, the hash the chain will know it by
 * @param nonce the sender's nonce the transaction consumes
 * @param rawTransactionHex the signed transaction, 0x-prefixed hex, ready for {@code eth_sendRawTransaction}
 * @param from the signing account
 * @param to the called contract
 */
public record PreparedTransaction(TxHash txHash, long nonce, String rawTransactionHex, Address from, Address to) {
    private static final Pattern HEX = Pattern.compile("0x([0-9a-fA-F]{2})+");

    public PreparedTransaction {
        Objects.requireNonNull(txHash, "txHash");
        Objects.requireNonNull(rawTransactionHex, "rawTransactionHex");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (nonce < 0) {
            throw new IllegalArgumentException("nonce must not be negative: " + nonce);
        }
        if (!HEX.matcher(rawTransactionHex).matches()) {
            throw new IllegalArgumentException("raw transaction is not 0x-prefixed hex bytes");
        }
    }

    /**
     * The fee fields of the signed bytes: an EIP-1559 transaction's own, a legacy transaction's gas
     * price as both (that is how nodes compare a replacement with it).
     */
    public GasFees fees() {
        RawTransaction decoded = decode();
        if (decoded.getTransaction() instanceof Transaction1559 typed) {
            return new GasFees(typed.getMaxFeePerGas(), typed.getMaxPriorityFeePerGas());
        }
        return new GasFees(decoded.getGasPrice(), decoded.getGasPrice());
    }

    /** The signed bytes decoded (nonce, gas limit, recipient, value, data, fees). */
    RawTransaction decode() {
        try {
            return TransactionDecoder.decode(rawTransactionHex);
        } catch (RuntimeException e) {
            throw new IllegalStateException("stored bytes of " + txHash + " are not a signed transaction", e);
        }
    }

    @Override
    public String toString() {
        return "PreparedTransaction[" + txHash + ", nonce " + nonce + ", from " + from + " to " + to + "]";
    }
}
