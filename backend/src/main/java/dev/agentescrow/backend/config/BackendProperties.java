package dev.agentescrow.backend.config;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The service's settings, bound from {@code agentescrow.*} (see application.yml for the
 * environment variables behind each).
 *
 * @param chainRpcUrl the node's JSON-RPC endpoint
 * @param deploymentFile the JSON file deploy.js writes ({@code chainId}, {@code contracts.*})
 * @param vaultDeploymentBlock the block the vault was deployed in (the indexer starts there)
 * @param databaseUrl a JDBC URL; blank starts an embedded PostgreSQL in {@code dataDir/postgres}
 * @param operatorPrivateKey the vault operator's key (hex), or blank
 * @param operatorKeystore a web3j/geth keystore file with the operator's key, or blank
 * @param faucetPrivateKey the test token owner's key, for {@code POST /faucet} (local profile only)
 * @param faucetEnabled whether {@code POST /faucet} exists
 * @param admins addresses with the admin role
 * @param escrowHolder the on-chain address of the ledger's ESCROW account (blank: the operator's)
 */
@ConfigurationProperties("agentescrow")
public record BackendProperties(
        String chainRpcUrl,
        Path deploymentFile,
        @DefaultValue("0") long vaultDeploymentBlock,
        String databaseUrl,
        String databaseUser,
        String databasePassword,
        Path dataDir,
        @DefaultValue("2") int confirmations,
        @DefaultValue("300") int batchIntervalSeconds,
        @DefaultValue("100") int transfersPerBatch,
        String operatorPrivateKey,
        String operatorKeystore,
        String operatorKeystorePassword,
        String faucetPrivateKey,
        @DefaultValue("false") boolean faucetEnabled,
        @DefaultValue("1000000000") BigInteger faucetMaxAmount,
        @DefaultValue List<String> admins,
        String escrowHolder,
        Siwe siwe,
        Jwt jwt,
        Limits limits) {

    /**
     * Sign-In with Ethereum.
     *
     * @param domain the domain expected in messages (blank: {@code localhost:<port>})
     * @param uri the URI expected in messages (blank: {@code http://localhost:<port>})
     */
    public record Siwe(String domain, String uri, @DefaultValue("PT5M") Duration nonceTtl,
                       @DefaultValue("PT10M") Duration maxMessageAge) {
    }

    /** Access tokens: HS256 with {@code secret} (blank: a random key per start), valid {@code ttl}. */
    public record Jwt(String secret, @DefaultValue("PT1H") Duration ttl) {
    }

    /**
     * Limits per principal and per IP, and amount limits per account (base units of any token).
     */
    public record Limits(@DefaultValue("200") long requestsPerSecondPerPrincipal,
                         @DefaultValue("400") long requestsPerSecondPerIp,
                         @DefaultValue("1000000000000000000000000") BigInteger maxTransferAmount,
                         @DefaultValue("100000000000000000000000000") BigInteger maxDailyAmount,
                         @DefaultValue("1000") int maxBatchTransfers,
                         @DefaultValue("500") int maxPageSize) {
    }
}
