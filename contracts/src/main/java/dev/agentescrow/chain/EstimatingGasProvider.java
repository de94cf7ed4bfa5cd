package dev.agentescrow.chain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthEstimateGas;
import org.web3j.tx.gas.ContractGasProvider;

/**
 * Gas limits from {@code eth_estimateGas} plus a 20% margin, and the node's gas price. A call the
 * contract would revert fails here, before anything is signed, with the decoded custom error.
 * Deployments (which web3j sizes without a transaction) get {@code deployGasLimit}.
 */
public final class EstimatingGasProvider implements ContractGasProvider {
    private final Web3j web3j;
    private final RevertDecoder revertDecoder;
    private final BigInteger deployGasLimit;

    public EstimatingGasProvider(Web3j web3j, RevertDecoder revertDecoder, BigInteger deployGasLimit) {
        this.web3j = web3j;
        this.revertDecoder = revertDecoder;
        this.deployGasLimit = deployGasLimit;
    }

    @Override
    public BigInteger getGasPrice() {
        try {
            return Quantities.of(web3j.ethGasPrice().send().getResult());
        } catch (IOException e) {
            throw new UncheckedIOException("eth_gasPrice failed", e);
        }
    }

    @Override
    public BigInteger getGasLimit(Transaction transaction) {
        EthEstimateGas estimate;
        try {
            estimate = web3j.ethEstimateGas(transaction).send();
        } catch (IOException e) {
            throw new UncheckedIOException("eth_estimateGas failed", e);
        }
        if (estimate.hasError()) {
            throw SerialNonceTransactionManager.revertException(revertDecoder,
                    "transaction to " + transaction.getTo(), estimate.getError());
        }
        BigInteger gas = Quantities.of(estimate.getResult());
        return gas.add(gas.divide(BigInteger.valueOf(5)));
    }

    @Override
    public BigInteger getGasLimit() {
        return deployGasLimit;
    }
}
