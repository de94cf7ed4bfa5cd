package dev.agentescrow.backend.token;

import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TokenRegistration;
import dev.agentescrow.chain.Address;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The tokens the service accepts: the deployment's token, registered with the ledger at start
 * (symbol and decimals read from the token), and any other token registered with the ledger.
 */
@Component
public class TokenCatalog {
    private static final Logger log = LoggerFactory.getLogger(TokenCatalog.class);

    private final LedgerGateway ledger;

    public TokenCatalog(LedgerGateway ledger, ChainGateway chain, ChainDeployment deployment) {
        this.ledger = ledger;
        if (!ledger.leads()) {
            log.info("standing by: the leader registers token {}", deployment.token());
            return;
        }
        ChainGateway.TokenMetadata metadata = chain.metadata(deployment.token());
        Token token = new Token(deployment.token(), metadata.symbol(), metadata.decimals());
        TokenRegistration registration = ledger.register(token, "backend", "the deployment's token");
        if (registration == TokenRegistration.CONFLICT) {
            throw new IllegalStateException("the ledger holds token " + token.address()
                    + " with another symbol or decimals than the chain reports: " + metadata);
        }
        log.info("token {} ({}, {} decimals): {}", token.address(), token.symbol(), token.decimals(), registration);
    }

    public List<Token> tokens() {
        return ledger.tokens();
    }

    public Optional<Token> find(Address address) {
        return ledger.token(address);
    }
}
