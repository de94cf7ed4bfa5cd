package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Address;
import java.util.Objects;

/** A registered token: only transfers in registered tokens are accepted. */
public record Token(Address address, String symbol, int decimals) {
    public Token {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(symbol, "symbol");
        if (symbol.isBlank() || symbol.length() > 32) {
            throw new IllegalArgumentException("symbol must be 1-32 characters: " + symbol);
        }
        if (decimals < 0 || decimals > 77) {
            throw new IllegalArgumentException("decimals must be in [0, 77]: " + decimals);
        }
    }
}
