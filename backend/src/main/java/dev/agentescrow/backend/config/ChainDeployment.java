package dev.agentescrow.backend.config;

import dev.agentescrow.chain.Address;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The contracts the service drives, as deploy.js writes them to {@code deployments/<network>.json}.
 *
 * @param chainId the chain the contracts live on
 * @param token the token the service accepts (the deployment's TestToken)
 * @param vault the SettlementVault
 * @param operator the vault's settlement operator
 * @param feeRecipient where fees go (the ledger's FEES account settles to it)
 * @param escrow the TaskEscrow of chain-custody escrows (null if the file names none: chain custody is off)
 */
public record ChainDeployment(long chainId, Address token, Address vault, Address operator, Address feeRecipient,
                              Address escrow) {
    public ChainDeployment {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(vault, "vault");
        Objects.requireNonNull(operator, "operator");
        Objects.requireNonNull(feeRecipient, "feeRecipient");
    }

    /** Reads a deployment file; fails with a message naming the file and the missing field. */
    public static ChainDeployment read(Path file) {
        JsonNode root;
        try {
            root = JsonMapper.builder().build().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the deployment file " + file.toAbsolutePath()
                    + " (set DEPLOYMENT_FILE, or deploy with scripts/chain)", e);
        }
        JsonNode contracts = root.path("contracts");
        return new ChainDeployment(root.path("chainId").asLong(),
                address(file, contracts, "TestToken"), address(file, contracts, "SettlementVault"),
                address(file, root, "operator"), address(file, root, "feeRecipient"),
                Address.isValid(contracts.path("TaskEscrow").asString("")) ? address(file, contracts, "TaskEscrow") : null);
    }

    public java.util.Optional<Address> escrowContract() {
        return java.util.Optional.ofNullable(escrow);
    }

    private static Address address(Path file, JsonNode node, String field) {
        String value = node.path(field).asString("");
        if (!Address.isValid(value)) {
            throw new IllegalStateException("deployment file " + file + " has no valid address at '" + field + "'");
        }
        return Address.of(value);
    }
}
