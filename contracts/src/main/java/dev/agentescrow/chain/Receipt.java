package dev.agentescrow.chain;

import org.web3j.protocol.core.methods.response.TransactionReceipt;

/** What the gateway keeps of a mined transaction. */
public record Receipt(TxHash txHash, long blockNumber, long gasUsed) {
    public static Receipt of(TransactionReceipt receipt) {
        return new Receipt(new TxHash(receipt.getTransactionHash()), Quantities.longOf(receipt.getBlockNumberRaw()),
                Quantities.longOf(receipt.getGasUsedRaw()));
    }
}
