package dev.agentescrow.backend.token.web;

import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.backend.token.TokenCatalog;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

@RestController
@RequestMapping("/api/v1/tokens")
@Tag(name = "tokens")
public class TokenController {
    private final TokenCatalog catalog;
    private final ChainGateway chain;

    public TokenController(TokenCatalog catalog, ChainGateway chain) {
        this.catalog = catalog;
        this.chain = chain;
    }

    public record TokenView(String address, String symbol, int decimals, String vault) {
    }

    public record TokenList(List<TokenView> tokens) {
    }

    @GetMapping
    @Operation(summary = "The tokens the service accepts, with their decimals and the vault that holds them")
    public TokenList tokens() {
        String vault = chain.vault().checksummed();
        return new TokenList(catalog.tokens().stream()
                .map(t -> new TokenView(t.address().checksummed(), t.symbol(), t.decimals(), vault)).toList());
    }
}
