package dev.agentescrow.chain;

import java.io.IOException;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.tx.ReadonlyTransactionManager;

/** Read-only transaction manager whose reverting calls decode their custom errors. */
final class ReadOnlyCalls extends ReadonlyTransactionManager {
    private final Web3j web3j;
    private final RevertDecoder revertDecoder;

    ReadOnlyCalls(Web3j web3j, RevertDecoder revertDecoder) {
        super(web3j, Address.ZERO.hex());
        this.web3j = web3j;
        this.revertDecoder = revertDecoder;
    }

    @Override
    public String sendCall(String to, String data, DefaultBlockParameter block) throws IOException {
        return SerialNonceTransactionManager.call(web3j, revertDecoder, getFromAddress(), to, data, block);
    }
}
