package dev.agentescrow.backend.faucet.web;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.config.BackendProperties;
import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Receipt;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.web3j.crypto.Credentials;

/** Test tokens for the caller, on a local chain only (the local profile holds the token owner's dev key). */
@RestController
@RequestMapping("/api/v1/faucet")
@Tag(name = "faucet", description = "Local chain only")
public class FaucetController {
    private final BackendProperties properties;
    private final ChainGateway chain;
    private final ChainDeployment deployment;
    private final AuditLog audit;

    public FaucetController(BackendProperties properties, ChainGateway chain, ChainDeployment deployment, AuditLog audit) {
        this.properties = properties;
        this.chain = chain;
        this.deployment = deployment;
        this.audit = audit;
    }

    private Credentials faucetKey() {
        String key = properties.faucetPrivateKey();
        return Credentials.create(key.startsWith("0x") ? key.substring(2) : key);
    }

    public record FaucetOrder(String token, String amount) {
    }

    public record Minted(String txHash, String token, String to, String amount) {
    }

    @PostMapping
    @Operation(summary = "Mints test tokens to the caller (local profile only)")
    public synchronized ResponseEntity<Minted> mint(@RequestBody FaucetOrder order) {
        if (!properties.faucetEnabled() || properties.faucetPrivateKey() == null
                || properties.faucetPrivateKey().isBlank()) {
            throw ApiException.notFound("faucet");
        }
        Address to = Principals.current();
        Inputs inputs = Inputs.check();
        Address token = inputs.address("token", order.token());
        BigInteger amount = inputs.amount("amount", order.amount());
        inputs.orThrow();
        if (!token.equals(deployment.token())) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "UNKNOWN_TOKEN", "the faucet mints the test token only");
        }
        if (amount.compareTo(properties.faucetMaxAmount()) > 0) {
            throw ApiException.invalidField("amount", "TOO_LARGE", "at most " + properties.faucetMaxAmount());
        }
        Receipt receipt = chain.mint(faucetKey(), token, to,
                Amount.of(amount));
        audit.record(to.hex(), "FAUCET_MINTED", "token", token.hex(), token.hex(), amount);
        return ResponseEntity.status(HttpStatus.CREATED)
                .body(new Minted(receipt.txHash().value(), token.checksummed(), to.checksummed(), amount.toString()));
    }
}
