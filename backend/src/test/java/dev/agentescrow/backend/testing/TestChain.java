package dev.agentescrow.backend.testing;

import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.deploy.Deployer;
import dev.agentescrow.chain.deploy.Deployment;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.local.HardhatNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One Hardhat node for the whole test run, with the contract set deployed as deploy.js does
 * (admin #0, operator #1, fee recipient #2) and written to a deployment file in deploy.js's
 * format, plus a fresh data folder for the embedded PostgreSQL. The node stops with the JVM.
 */
public final class TestChain {
    public static final int ADMIN = 0;
    public static final int OPERATOR = 1;
    public static final int FEE_RECIPIENT = 2;

    private static TestChain instance;

    private final HardhatNode node;
    private final ChainClient client;
    private final Deployment deployment;
    private final Path deploymentFile;
    private final Path dataDir;

    private TestChain(HardhatNode node, ChainClient client, Deployment deployment, Path deploymentFile, Path dataDir) {
        this.node = node;
        this.client = client;
        this.deployment = deployment;
        this.deploymentFile = deploymentFile;
        this.dataDir = dataDir;
    }

    public static synchronized TestChain get() {
        if (instance == null) {
            instance = start();
        }
        return instance;
    }

    private static TestChain start() {
        HardhatNode node = HardhatNode.start(HardhatNode.locateContractsDir());
        ChainClient client = ChainClient.connect(ChainSettings.local(node.rpcUrl()));
        Signer admin = client.signer(DevAccounts.account(ADMIN));
        Deployment deployment = Deployer.deployWithTestToken(client, admin, new Deployer.Plan(admin.address(),
                client.signer(DevAccounts.account(OPERATOR)).address(),
                client.signer(DevAccounts.account(FEE_RECIPIENT)).address(), BasisPoints.of(100), Duration.ofDays(7)));
        try {
            Path dir = Files.createTempDirectory("backend-it-");
            Path file = dir.resolve("localhost.json");
            Files.writeString(file, """
                    {
                      "network": "localhost",
                      "chainId": %d,
                      "admin": "%s",
                      "operator": "%s",
                      "feeRecipient": "%s",
                      "contracts": {
                        "TestToken": "%s",
                        "SettlementVault": "%s",
                        "TaskEscrow": "%s",
                        "PaymentChannels": "%s"
                      }
                    }
                    """.formatted(ChainSettings.LOCAL_CHAIN_ID, deployment.admin().checksummed(),
                    deployment.operator().checksummed(), deployment.feeRecipient().checksummed(),
                    deployment.token().checksummed(), deployment.vault().checksummed(),
                    deployment.escrow().checksummed(), deployment.channels().checksummed()));
            return new TestChain(node, client, deployment, file, dir.resolve("data"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String rpcUrl() {
        return node.rpcUrl();
    }

    public ChainClient client() {
        return client;
    }

    public Deployment deployment() {
        return deployment;
    }

    public Path deploymentFile() {
        return deploymentFile;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Signer account(int index) {
        return client.signer(DevAccounts.account(index));
    }

    /** A new random key with 100 ETH ({@code hardhat_setBalance}), to send transactions from. */
    public static org.web3j.crypto.Credentials fundedFreshKey() {
        try {
            org.web3j.crypto.Credentials key = org.web3j.crypto.Credentials.create(org.web3j.crypto.Keys.createEcKeyPair());
            get().client().rawRequest("hardhat_setBalance", java.util.List.of(key.getAddress(), "0x56BC75E2D63100000"));
            return key;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The hex private key of {@code key}. */
    public static String privateKey(org.web3j.crypto.Credentials key) {
        return "0x" + String.format("%064x", key.getEcKeyPair().getPrivateKey());
    }

    /** The hex private key of dev account {@code index} (for the JavaScript clients). */
    public static String privateKey(int index) {
        return "0x" + String.format("%064x", DevAccounts.account(index).getEcKeyPair().getPrivateKey());
    }
}
