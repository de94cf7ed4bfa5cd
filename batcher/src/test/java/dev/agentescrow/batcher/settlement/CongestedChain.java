package dev.agentescrow.batcher.settlement;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.TxHash;
import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import org.web3j.protocol.core.methods.response.Transaction;

/**
 * The shared Hardhat node with automine off and the base fee under the test's control, so that a
 * transaction can be left pending and underpriced the way a busy public chain leaves it. Taken
 * with {@code evm_snapshot} on {@link #start}; {@link #close} reverts to it (blocks and the
 * node's pending transactions) and turns automine on again with the base fee it had, so the other
 * tests of the module find the node as it was. Between the two, only keys whose nonces the test
 * reads from the node itself may send (the shared client's cached nonces stay valid after the revert).
 */
final class CongestedChain implements AutoCloseable {
    private final ChainClient client;
    private final String snapshot;
    private final BigInteger baseFeeBefore;

    private CongestedChain(ChainClient client, String snapshot, BigInteger baseFeeBefore) {
        this.client = client;
        this.snapshot = snapshot;
        this.baseFeeBefore = baseFeeBefore;
    }

    static CongestedChain start(ChainClient client) {
        BigInteger baseFee = client.feeMarket().baseFeePerGas();
        String snapshot = client.rawRequest("evm_snapshot", List.of()).replace("\"", "");
        client.rawRequest("evm_setAutomine", List.of(false));
        return new CongestedChain(client, snapshot, baseFee);
    }

    /** The base fee of the next block (and of the {@code pending} block the submitter prices from). */
    void nextBaseFee(BigInteger weiPerGas) {
        client.rawRequest("hardhat_setNextBlockBaseFeePerGas", List.of("0x" + weiPerGas.toString(16)));
    }

    /** Mines one block at {@code baseFee}: pending transactions that offer less stay pending. */
    void mine(BigInteger baseFee) {
        nextBaseFee(baseFee);
        client.rawRequest("evm_mine", List.of());
    }

    /** Whether the node holds {@code txHash} unmined (Hardhat has no {@code txpool_content}). */
    boolean isPending(TxHash txHash) {
        return transaction(txHash).map(tx -> tx.getBlockHash() == null).orElse(false);
    }

    /** Whether the node knows {@code txHash} at all, pending or mined. */
    boolean knows(TxHash txHash) {
        return transaction(txHash).isPresent();
    }

    private Optional<Transaction> transaction(TxHash txHash) {
        try {
            return client.web3j().ethGetTransactionByHash(txHash.value()).send().getTransaction();
        } catch (IOException e) {
            throw new IllegalStateException("eth_getTransactionByHash failed", e);
        }
    }

    static BigInteger gwei(long gwei) {
        return BigInteger.valueOf(gwei).multiply(BigInteger.TEN.pow(9));
    }

    @Override
    public void close() {
        client.rawRequest("evm_revert", List.of(snapshot));
        client.rawRequest("evm_setAutomine", List.of(true));
        nextBaseFee(baseFeeBefore);
    }
}
