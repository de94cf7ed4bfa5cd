package dev.agentescrow.backend.token;

import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.gateway.LedgerGateway;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TokenRegistration;
import dev.agentescrow.chain.Address;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The tokens the service accepts: the deployment's token, registered with the ledger at start
 * (symbol and decimals read from the token), and any other token registered with the ledger.
 * Read from the database on any instance (the ledger's read side: no writer, so a standby answers
 * during a takeover), kept for {@link #REFRESH}: tokens are only ever added, never changed or
 * removed, so the kept list can only lack a token registered in the last second, and a look-up
 * that misses reads the database again before it answers "unknown".
 */
@Component
public class TokenCatalog {
    private static final Logger log = LoggerFactory.getLogger(TokenCatalog.class);

    /** How long the list read from the database is kept. */
    static final Duration REFRESH = Duration.ofSeconds(1);

    private final LedgerGateway ledger;
    private volatile Snapshot snapshot;

    private record Snapshot(List<Token> tokens, Map<Address, Token> byAddress, long readAtNanos) {
        static Snapshot of(List<Token> tokens) {
            Map<Address, Token> byAddress = new HashMap<>();
            tokens.forEach(token -> byAddress.put(token.address(), token));
            return new Snapshot(List.copyOf(tokens), Map.copyOf(byAddress), System.nanoTime());
        }

        boolean fresh() {
            return System.nanoTime() - readAtNanos < REFRESH.toNanos();
        }
    }

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

    /** The accepted tokens, ordered by address. */
    public List<Token> tokens() {
        Snapshot known = snapshot;
        return (known != null && known.fresh() ? known : reload()).tokens();
    }

    public Optional<Token> find(Address address) {
        Snapshot known = snapshot;
        Token token = known == null ? null : known.byAddress().get(address);
        if (token == null) {
            token = reload().byAddress().get(address);
        }
        return Optional.ofNullable(token);
    }

    private Snapshot reload() {
        Snapshot read = Snapshot.of(ledger.tokens());
        snapshot = read;
        return read;
    }
}
