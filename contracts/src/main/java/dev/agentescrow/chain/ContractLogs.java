package dev.agentescrow.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.web3j.abi.EventEncoder;
import org.web3j.abi.datatypes.Event;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.exceptions.ClientConnectionException;

/**
 * Reads the event logs of one contract, by block range or by transaction, always in log order and
 * never another contract's. Gateways decode them with the wrappers (see {@link EventDecoder}) and
 * key exactly-once processing on {@link LogPosition#of(Log)}.
 */
public final class ContractLogs {
    private final ChainClient client;
    private final Address contract;

    public ContractLogs(ChainClient client, Address contract) {
        this.client = Objects.requireNonNull(client, "client");
        this.contract = Objects.requireNonNull(contract, "contract");
    }

    /**
     * The contract's logs in blocks {@code fromBlock..toBlock} (inclusive). {@code topics} match
     * position by position ({@code topics[0]} is the event signature); {@code null} matches any.
     */
    public List<Log> between(long fromBlock, long toBlock, String... topics) {
        EthFilter filter = new EthFilter(block(fromBlock), block(toBlock), contract.hex());
        for (String topic : topics) {
            if (topic == null) {
                filter.addNullTopic();
            } else {
                filter.addSingleTopic(topic);
            }
        }
        EthLog response;
        try {
            response = client.web3j().ethGetLogs(filter).send();
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getLogs failed", e);
        }
        if (response.hasError()) {
            throw new ChainException("eth_getLogs failed: " + response.getError().getMessage());
        }
        List<Log> logs = new ArrayList<>();
        for (EthLog.LogResult<?> result : response.getLogs()) {
            if (result.get() instanceof Log log) {
                logs.add(log);
            }
        }
        return fromContract(logs);
    }

    /** The contract's {@code event} logs in blocks {@code fromBlock..toBlock} (inclusive). */
    public List<Log> between(long fromBlock, long toBlock, Event event) {
        return between(fromBlock, toBlock, EventEncoder.encode(event));
    }

    /** The contract's logs in the mined transaction {@code txHash}. */
    public List<Log> inTransaction(TxHash txHash) {
        TransactionReceipt receipt;
        try {
            receipt = client.web3j().ethGetTransactionReceipt(txHash.value()).send().getTransactionReceipt()
                    .orElseThrow(() -> new ChainException("no receipt for " + txHash));
        } catch (IOException | ClientConnectionException e) {
            throw new ChainException("eth_getTransactionReceipt failed for " + txHash, e);
        }
        return fromContract(receipt.getLogs());
    }

    private List<Log> fromContract(List<Log> logs) {
        return logs.stream().filter(log -> contract.equals(Address.of(log.getAddress()))).toList();
    }

    private static DefaultBlockParameter block(long number) {
        return DefaultBlockParameter.valueOf(BigInteger.valueOf(number));
    }
}
