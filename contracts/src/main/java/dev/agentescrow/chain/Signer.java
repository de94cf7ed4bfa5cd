package dev.agentescrow.chain;

import org.web3j.crypto.Credentials;
import org.web3j.tx.TransactionManager;
import org.web3j.tx.gas.ContractGasProvider;

/** A key with its shared, nonce-serializing transaction manager and gas provider. */
public record Signer(Credentials credentials, TransactionManager transactionManager, ContractGasProvider gasProvider) {
    public Address address() {
        return Address.of(credentials.getAddress());
    }
}
