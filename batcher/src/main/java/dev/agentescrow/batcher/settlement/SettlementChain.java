package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.util.Objects;

/**
 * How the submitter reaches the vault: a client, the vault gateway on it, the operator key (used
 * to sign only: nonces come from the node's pending count, never from a shared counter) and the
 * retry and circuit-breaker policy every RPC call runs under.
 */
public record SettlementChain(ChainClient client, SettlementVaultGateway vault, Signer operator, ResilientRpc rpc) {
    public SettlementChain {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(rpc, "rpc");
    }
}
